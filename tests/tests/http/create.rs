//! `POST /api/v1/notifications`.

use std::io::{Read, Write};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::*;

const ONE_MIB: usize = 1024 * 1024;

fn valid_body(user: Uuid) -> Value {
    json!({"user_id": user, "title": "Nova transação", "message": "Uma nova transação foi criada"})
}

/// The status line of a create whose body of `len` spaces is sent in chunks,
/// with no `Content-Length` for the server to trust: only counting what it
/// reads can stop it. Blocking I/O on a socket of its own, so that nothing
/// (no client library) rewrites the framing.
fn create_chunked(app: &TestApp, token: &str, len: usize) -> String {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /api/v1/notifications HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        let mut frame = format!("{n:x}\r\n").into_bytes();
        frame.extend_from_slice(&chunk[..n]);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and stop reading before the end: fine.
        if stream.write_all(&frame).is_err() {
            break;
        }
        left -= n;
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_answers_201_with_the_resource_and_its_location() {
    let app = app().await;
    let user = Uuid::now_v7();
    let mut socket = app.ws(&app.user_token(user)).await;
    let reply = app.create(&app.publisher_token(), &valid_body(user)).await;

    assert_eq!(reply.status, 201);
    let body = reply.json();
    let id = body["notification_id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/notifications/{id}").as_str())
    );
    assert_eq!(body["user_id"], user.to_string());
    assert_eq!(body["title"], "Nova transação");
    assert_eq!(body["type"], "INFO");
    assert_eq!(body["status"], "UNREAD");
    assert_eq!(body["metadata"], json!({}));
    assert_eq!(body["read_at"], Value::Null);
    assert_eq!(body["archived_at"], Value::Null);

    let pushed = socket.expect("notification").await;
    assert_eq!(
        pushed["data"]["notification_id"], id,
        "the created one is pushed"
    );
    assert_no_more_pushes(&app, &mut socket, user).await;

    // The addressee reads it at the Location.
    let fetched = app
        .call(
            Method::GET,
            reply.header("location").unwrap(),
            &app.user_token(user),
        )
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_keeps_type_and_metadata_and_needs_no_content_type() {
    let app = app().await;
    let body = json!({
        "user_id": Uuid::now_v7(), "title": "t", "message": "m",
        "type": "WARNING", "metadata": {"order": 42}
    });
    let reply = app
        .send(app.create_request(&app.publisher_token(), body.to_string()))
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json()["type"], "WARNING");
    assert_eq!(reply.json()["metadata"], json!({"order": 42}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broken_rule_is_a_422_naming_its_field() {
    let app = app().await;
    let token = app.publisher_token();
    let user = Uuid::now_v7();
    let mut socket = app.ws(&app.user_token(user)).await;
    let with = |key: &str, value: Value| {
        let mut body = valid_body(user);
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid_body(user);
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let big_metadata = json!({"k": "x".repeat(8 * 1024)});
    let cases = [
        (without("user_id"), "user_id"),
        (with("user_id", json!("not-a-uuid")), "user_id"),
        (with("user_id", json!(42)), "user_id"),
        (without("title"), "title"),
        (with("title", json!(1)), "title"),
        (with("title", json!("   ")), "title"),
        (with("title", json!("x".repeat(256))), "title"),
        (without("message"), "message"),
        (with("message", json!({"text": "m"})), "message"),
        (with("message", json!("")), "message"),
        (with("message", json!("x".repeat(4097))), "message"),
        (with("type", json!("NEWS")), "type"),
        (with("type", json!("info")), "type"),
        (with("type", json!(true)), "type"),
        (with("metadata", json!([1, 2])), "metadata"),
        (with("metadata", json!("{}")), "metadata"),
        (with("metadata", big_metadata), "metadata"),
        (json!(["a", "list"]), "body"),
        (json!("a string"), "body"),
    ];
    for (body, field) in cases {
        let reply = app.create(&token, &body).await;
        reply.assert_invalid_field(field);
    }
    assert_eq!(app.stored_for(user).await, 0, "nothing invalid was stored");
    assert_no_more_pushes(&app, &mut socket, user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_400_bad_request() {
    let app = app().await;
    let token = app.publisher_token();
    for body in ["{", "", "{\"user_id\": }", "nul", "{'single': 'quotes'}"] {
        let reply = app.send(app.create_request(&token, body)).await;
        reply.assert_error(400, "bad_request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_exactly_one_mib_is_read() {
    let app = app().await;
    let mut body = valid_body(Uuid::now_v7()).to_string();
    body.push_str(&" ".repeat(ONE_MIB - body.len())); // trailing white space is valid JSON
    assert_eq!(body.len(), ONE_MIB);
    let reply = app
        .send(app.create_request(&app.publisher_token(), body))
        .await;
    assert_eq!(reply.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_one_mib_is_a_413() {
    let app = app().await;
    let token = app.publisher_token();
    let reply = app
        .send(app.create_request(&token, vec![b' '; ONE_MIB + 1]))
        .await;
    reply.assert_error(413, "payload_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_streamed_without_a_content_length_is_still_cut_at_one_mib() {
    let app = app().await;
    let token = app.publisher_token();
    let status_line = tokio::task::block_in_place(|| create_chunked(&app, &token, ONE_MIB + 1));
    assert!(status_line.contains(" 413 "), "{status_line}");
    // At the limit the same framing is read whole: only spaces are no JSON,
    // so the answer is 400, not 413.
    let status_line = tokio::task::block_in_place(|| create_chunked(&app, &token, ONE_MIB));
    assert!(status_line.contains(" 400 "), "{status_line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_down_is_a_503() {
    let (app, _database) = app_with_database_down().await;
    let reply = app
        .create(&app.publisher_token(), &valid_body(Uuid::now_v7()))
        .await;
    reply.assert_error(503, "service_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_is_a_500_that_leaks_nothing() {
    let app = app_with_database_broken().await;
    let reply = app
        .create(&app.publisher_token(), &valid_body(Uuid::now_v7()))
        .await;
    let error = reply.assert_error(500, "internal");
    assert_eq!(error["message"], "internal error");
    let text = String::from_utf8_lossy(&reply.body);
    assert!(!text.contains("relation"), "{text}");
    assert!(!text.contains(INTERNAL_CAUSE), "{text}");
}
