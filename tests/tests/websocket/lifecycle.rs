//! Keepalive and slow consumers, with short timeouts from configuration.

use std::time::Duration;

use notification_e2e::{spawn_app_with, Backend};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_answering_pings_is_closed() {
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(
        &database,
        &["--ws-ping-interval", "0.1", "--ws-pong-timeout", "0.5"],
    )
    .await;
    let (_, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    // A tungstenite client answers pings only while it reads: not reading is
    // the silence under test.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (closed, _) = socket.expect_close_within(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 1000, "{closed:?}");
    assert_eq!(closed.reason, "pong timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_reading_survives_many_ping_intervals() {
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(
        &database,
        &["--ws-ping-interval", "0.1", "--ws-pong-timeout", "0.5"],
    )
    .await;
    let (user, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    // Reading (which answers pings) across ten ping intervals.
    for _ in 0..10 {
        socket.send_text(r#"{"type":"ping"}"#).await;
        socket.expect("pong").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.create_for(user, "alive").await;
    socket.expect("notification").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_with_1013_and_others_are_served() {
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(
        &database,
        &["--ws-send-buffer", "8", "--ws-write-timeout", "30"],
    )
    .await;
    let (slow_user, slow_token) = app.new_user();
    let (fast_user, fast_token) = app.new_user();
    let mut slow = app.ws(&slow_token).await;
    let mut fast = app.ws(&fast_token).await;

    // Large notifications fill the socket buffers of the client that never
    // reads, then its 8-message queue.
    let publisher = app.publisher_token();
    let big = json!({"user_id": slow_user, "title": "big", "message": "m".repeat(4000),
                     "metadata": {"blob": "b".repeat(8000)}});
    let mut created = 0usize;
    for _ in 0..3000 {
        let response = app.create_json(&publisher, &big).await;
        assert_eq!(response.status(), 201);
        created += 1;
    }

    // Meanwhile another user is served as usual.
    let own = app.create_for(fast_user, "served").await;
    assert_eq!(fast.expect("notification").await["data"], own);

    let (closed, delivered) = slow.expect_close_within(Duration::from_secs(30)).await;
    assert_eq!(closed.code, 1013, "{closed:?}");
    assert!(
        delivered < created,
        "the slow client got {delivered} of {created}"
    );
}
