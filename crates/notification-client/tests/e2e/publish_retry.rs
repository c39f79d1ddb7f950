//! What a publish retries and what it does not, against a stand-in server
//! whose answers the test chooses (the real one never answers 5xx on cue).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use notification_client::protocol::CreateNotificationRequest;
use notification_client::{Backoff, NotificationClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::support::config;

/// Answers every request with `answer`; keeps each request's
/// `Idempotency-Key`.
async fn stand_in(answer: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let keys = Arc::new(Mutex::new(Vec::new()));
    let seen = keys.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, answer, seen.clone()));
        }
    });
    (base_url, keys)
}

async fn serve(mut tcp: TcpStream, answer: &'static str, keys: Arc<Mutex<Vec<String>>>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(read @ 1..) = tcp.read(&mut buffer).await else {
            return;
        };
        request.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&request).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
        if body.len() < length {
            continue;
        }
        keys.lock()
            .unwrap()
            .push(header("idempotency-key").unwrap_or_default());
        let _ = tcp.write_all(answer.as_bytes()).await;
        request.clear();
    }
}

fn publisher(base_url: &str) -> NotificationClient {
    let quick = Backoff::new(Duration::from_millis(10), Duration::from_millis(50));
    NotificationClient::new(config(base_url, "publisher").with_publish_retry(quick, 3)).unwrap()
}

fn draft() -> CreateNotificationRequest {
    CreateNotificationRequest {
        user_id: Uuid::now_v7(),
        title: "t".to_owned(),
        message: "m".to_owned(),
        notification_type: None,
        metadata: None,
    }
}

#[tokio::test]
async fn a_503_is_retried_with_the_same_key_up_to_the_attempt_limit() {
    let (base_url, keys) = stand_in(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\ncontent-type: application/json\r\ncontent-length: 57\r\n\r\n{\"error\":{\"code\":\"service_unavailable\",\"message\":\"busy\"}}",
    )
    .await;
    let error = publisher(&base_url).create(&draft()).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3, "three attempts in all");
    assert!(!keys[0].is_empty());
    assert!(keys.iter().all(|key| key == &keys[0]), "one key: {keys:?}");
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let (base_url, keys) = stand_in(
        "HTTP/1.1 422 Unprocessable Entity\r\ncontent-type: application/json\r\ncontent-length: 72\r\n\r\n{\"error\":{\"code\":\"validation_failed\",\"message\":\"title\",\"field\":\"title\"}}",
    )
    .await;
    let error = publisher(&base_url).create(&draft()).await.unwrap_err();
    assert_eq!(error.status(), Some(422));
    assert_eq!(keys.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_long_retry_after_is_capped_at_the_backoff_maximum() {
    let (base_url, keys) = stand_in(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\ncontent-type: application/json\r\ncontent-length: 57\r\n\r\n{\"error\":{\"code\":\"service_unavailable\",\"message\":\"busy\"}}",
    )
    .await;
    // Uncapped, this would wait an hour per attempt: the safety net fails it.
    let outcome = tokio::time::timeout(
        crate::support::ARRIVAL,
        publisher(&base_url).create(&draft()),
    )
    .await
    .expect("the waits were capped");
    assert_eq!(outcome.unwrap_err().status(), Some(503));
    assert_eq!(keys.lock().unwrap().len(), 3);
}
