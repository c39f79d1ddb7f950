//! The request log, in a test binary of its own: tracing's per-callsite
//! interest cache is process-wide, so a scoped subscriber only sees every event
//! reliably when no other test runs in the same process at the same time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use uuid::Uuid;

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::*;

/// A `Write` into a shared buffer, to read what tracing printed.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn the_request_log_names_the_route_pattern_and_never_a_token() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::new();
    let secret_token = app.user_token(Uuid::now_v7());

    let reply = app
        .send(TestRequest::get().uri(&format!(
            "/api/v1/notifications/{}/read?token={secret_token}",
            Uuid::now_v7()
        )))
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    // A refused upgrade whose token rode in the subprotocol (contract §8).
    let refused = app
        .send(
            TestRequest::get()
                .uri("/ws/notifications")
                .insert_header(("Connection", "Upgrade"))
                .insert_header(("Upgrade", "websocket"))
                .insert_header(("Sec-WebSocket-Version", "13"))
                .insert_header(("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="))
                .insert_header((
                    "Sec-WebSocket-Protocol",
                    "notifications.v1, bearer.not-a-jwt-SUBPROTOCOLSECRET",
                )),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let printed = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = printed
        .lines()
        .find(|line| line.contains("request"))
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
