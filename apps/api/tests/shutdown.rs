//! Graceful shutdown of the real process: SIGTERM → close 1001 on every
//! socket, then exit 0 within SHUTDOWN_TIMEOUT.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use notification_infrastructure::testing::fresh_sqlite_url;
use support::{token, ServerProcess};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_socket_with_1001_and_exits_0() {
    let mut server = ServerProcess::start_with(&fresh_sqlite_url(), &["--shutdown-timeout", "5"]);
    let user = "123e4567-e89b-12d3-a456-426614174001";
    let url = format!(
        "{}/ws/notifications?token={}",
        server.ws_base_url(),
        token(user, None)
    );
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("socket opens");
        sockets.push(socket);
    }

    server.terminate();

    for socket in &mut sockets {
        let code = loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("the close arrives in time")
                .expect("a close frame before the stream ends")
                .expect("a valid frame");
            if let Message::Close(frame) = frame {
                break frame.map(|f| u16::from(f.code));
            }
        };
        assert_eq!(code, Some(1001));
    }
    drop(sockets);

    // SHUTDOWN_TIMEOUT is 5 s; allow for a busy machine on top.
    let exit = server.exit_within(Duration::from_secs(15)).await;
    assert!(exit.success(), "exit status {exit:?}");
}
