//! What the sync tests share: two nodes, positions, and reading a socket's
//! changes up to a `seq`.

use notification_e2e::ws::{Connect, WsClient};
use notification_e2e::{spawn_app_with, Backend, TestApp};
use reqwest::Method;
use serde_json::Value;

/// The shared test Redis (`TEST_REDIS_URL`, default the local one).
pub fn shared_redis() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Two nodes on two ports, one PostgreSQL database, one Redis.
pub async fn two_nodes() -> (TestApp, TestApp) {
    let database = Backend::Postgres.database_url().await;
    let redis = shared_redis();
    let a = spawn_app_with(&database, &["--event-bus-url", &redis]).await;
    let b = spawn_app_with(&database, &["--event-bus-url", &redis]).await;
    (a, b)
}

/// The user's position as REST reports it: (`seq`, `unread_count`).
pub async fn position(app: &TestApp, token: &str) -> (u64, u64) {
    let response = app
        .request(
            Method::GET,
            "/api/v1/notifications/unread-count",
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["seq"].as_u64().expect("seq"),
        body["unread_count"].as_u64().expect("unread_count"),
    )
}

/// A socket of `token`'s user with `query` (e.g. `since_seq=3`).
pub async fn connect(app: &TestApp, token: &str, query: Option<&str>) -> WsClient {
    app.ws_connect(Connect {
        query_token: Some(token),
        query,
        ..Connect::default()
    })
    .await
    .unwrap_or_else(|status| panic!("upgrade refused with {status}"))
}

/// Reads change messages until the one with `seq` == `until`, checking that
/// they come as `after + 1, after + 2, …` with no gap and no repeat.
pub async fn changes_until(socket: &mut WsClient, after: u64, until: u64) -> Vec<Value> {
    let mut changes = Vec::new();
    let mut last = after;
    while last < until {
        let message = socket.next_json().await;
        let seq = message["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("a change without seq: {message}"));
        assert_eq!(seq, last + 1, "after {last} came {message}");
        last = seq;
        changes.push(message);
    }
    changes
}

/// The id of a notification resource or message.
pub fn id_of(resource: &Value) -> String {
    resource["notification_id"]
        .as_str()
        .expect("a notification id")
        .to_owned()
}
