//! Request ids, seen from outside and in the server's log: a test binary of
//! its own, since it captures the process-wide log (as `request_log.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use notification_e2e::logs::capture_logs;
use notification_e2e::{spawn_app, Backend, Reply, TestApp};
use reqwest::Method;
use uuid::Uuid;

fn id_of(reply: &Reply) -> String {
    reply
        .headers
        .get("x-request-id")
        .expect("every response names its request id")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn get(app: &TestApp, path: &str, request_id: Option<&str>, token: Option<&str>) -> Reply {
    let mut request = app.http(Method::GET, path);
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    app.send(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_and_every_log_line_of_a_request_carry_its_id() {
    let logs = capture_logs();
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();

    // A caller's sane id is kept, on a success and on a refusal alike.
    let kept = get(
        &app,
        "/api/v1/notifications",
        Some("edge-7f3a.1"),
        Some(&token),
    )
    .await;
    assert_eq!(kept.status, 200);
    assert_eq!(id_of(&kept), "edge-7f3a.1");
    let refused = get(
        &app,
        "/api/v1/notifications",
        Some("edge-refused"),
        Some("not-a-jwt"),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert_eq!(id_of(&refused), "edge-refused");

    // Without one, or with one that could forge log lines, a new one is made.
    let made = get(&app, "/healthz", None, None).await;
    let forged = get(&app, "/no/such/path", Some("a b\" request_id=x"), None).await;
    assert_eq!(forged.status, 404);
    for reply in [&made, &forged] {
        assert!(Uuid::parse_str(&id_of(reply)).is_ok(), "{}", id_of(reply));
    }
    assert_ne!(id_of(&made), id_of(&forged));

    // The request line, and the handler's own line (the refused token), name it.
    let request_line = logs.lines_with("request_id=edge-7f3a.1");
    assert!(
        request_line
            .iter()
            .any(|l| l.contains("route=/api/v1/notifications") && l.contains("status=200")),
        "{request_line:?}"
    );
    let refusal_lines = logs.lines_with("request_id=edge-refused");
    assert!(
        refusal_lines.iter().any(|l| l.contains("token refused")),
        "the handler's line is in the request's span: {refusal_lines:?}"
    );
    assert!(
        refusal_lines.iter().any(|l| l.contains("status=401")),
        "{refusal_lines:?}"
    );
    assert!(!logs
        .lines_with(&format!("request_id={}", id_of(&forged)))
        .is_empty());
    assert!(
        logs.lines_with("request_id=x").is_empty(),
        "a forged id reached the log"
    );
}
