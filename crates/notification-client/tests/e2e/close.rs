//! A subscription that is closed or dropped ends its socket with a close
//! frame (1000), so the server sees a clean close rather than a 1006.

use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{client, connected, ARRIVAL};

/// A WebSocket server that accepts one connection, sends nothing, and reports
/// the close code of the first close frame the client sends (`None` when the
/// connection ends without one).
async fn observing_server() -> (String, oneshot::Receiver<Option<CloseCode>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (report, seen) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut code = None;
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                code = frame.map(|frame| frame.code);
                break;
            }
        }
        let _ = report.send(code);
    });
    (base_url, seen)
}

#[tokio::test]
async fn close_sends_a_normal_close_frame() {
    let (base_url, seen) = observing_server().await;
    let mut subscription = client(&base_url, "token").subscribe_after_seq(0);
    connected(&mut subscription).await;
    tokio::time::timeout(ARRIVAL, subscription.close())
        .await
        .expect("close completes");
    let code = tokio::time::timeout(ARRIVAL, seen).await.unwrap().unwrap();
    assert_eq!(code, Some(CloseCode::Normal));
}

#[tokio::test]
async fn dropping_the_subscription_sends_a_normal_close_frame() {
    let (base_url, seen) = observing_server().await;
    let mut subscription = client(&base_url, "token").subscribe_after_seq(0);
    connected(&mut subscription).await;
    drop(subscription);
    let code = tokio::time::timeout(ARRIVAL, seen).await.unwrap().unwrap();
    assert_eq!(code, Some(CloseCode::Normal));
}
