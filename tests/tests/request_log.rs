//! The request log of the real server, in a test binary of its own: the log
//! goes to the process-wide subscriber, which this test installs (capturing
//! into a buffer) before the server starts, and no other test shares.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use notification_e2e::logs::capture_logs;
use notification_e2e::{spawn_app, Backend};
use reqwest::Method;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_names_the_route_pattern_and_never_a_token() {
    let logs = capture_logs();
    let app = spawn_app(Backend::Sqlite).await;
    let secret_token = app.user_token(Uuid::now_v7());

    // The line is written before the answer leaves the server.
    let reply = app
        .send(app.http(
            Method::GET,
            &format!(
                "/api/v1/notifications/{}/read?token={secret_token}",
                Uuid::now_v7()
            ),
        ))
        .await;
    assert_eq!(reply.status, 405);
    // A refused upgrade whose token rode in the subprotocol (contract §8):
    // the server answers 401 before upgrading, so a plain request will do.
    let refused = app
        .send(
            app.http(Method::GET, "/ws/notifications")
                .header("Connection", "Upgrade")
                .header("Upgrade", "websocket")
                .header("Sec-WebSocket-Version", "13")
                .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header(
                    "Sec-WebSocket-Protocol",
                    "notifications.v1, bearer.not-a-jwt-SUBPROTOCOLSECRET",
                ),
        )
        .await;
    assert_eq!(refused.status, 401);

    let printed = logs.text();
    let line = printed
        .lines()
        .find(|line| line.contains("request") && line.contains("route="))
        .unwrap_or_else(|| panic!("no request line in:\n{printed}"));
    assert!(line.contains("method=GET"), "{line}");
    assert!(
        line.contains("route=/api/v1/notifications/{id}/read"),
        "{line}"
    );
    assert!(line.contains("status=405"), "{line}");
    assert!(line.contains("latency_ms="), "{line}");
    assert!(!printed.contains(&secret_token), "token leaked:\n{printed}");
    assert!(!printed.contains("token="), "query leaked:\n{printed}");
    assert!(
        printed.contains("route=/ws/notifications"),
        "the refused upgrade is logged:\n{printed}"
    );
    assert!(
        !printed.contains("SUBPROTOCOLSECRET"),
        "subprotocol token leaked:\n{printed}"
    );
}
