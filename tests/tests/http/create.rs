//! `POST /api/v1/notifications`.

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use notification_domain::DomainEvent;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::*;

const ONE_MIB: usize = 1024 * 1024;

fn valid_body(user: Uuid) -> Value {
    json!({"user_id": user, "title": "Nova transação", "message": "Uma nova transação foi criada"})
}

fn raw_create(token: &str, body: impl Into<actix_web::web::Bytes>) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/notifications")
        .insert_header(bearer(token))
        .set_payload(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_answers_201_with_the_resource_and_its_location() {
    let app = app().await;
    let user = Uuid::now_v7();
    let reply = app
        .create(&app.publisher_token(), &valid_body(user))
        .await;

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

    let events = app.publisher.events();
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], DomainEvent::NotificationCreated(e) if e.notification.id().to_string() == id)
    );

    // The addressee reads it at the Location.
    let fetched = app
        .call(Method::GET, reply.header("location").unwrap(), &app.user_token(user))
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
        .send(raw_create(
            &app.publisher_token(),
            body.to_string(),
        ))
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
    assert!(app.publisher.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_400_bad_request() {
    let app = app().await;
    let token = app.publisher_token();
    for body in ["{", "", "{\"user_id\": }", "nul", "{'single': 'quotes'}"] {
        let reply = app.send(raw_create(&token, body)).await;
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
        .send(raw_create(&app.publisher_token(), body))
        .await;
    assert_eq!(reply.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_one_mib_is_a_413() {
    let app = app().await;
    let token = app.publisher_token();
    let reply = app.send(raw_create(&token, vec![b' '; ONE_MIB + 1])).await;
    reply.assert_error(413, "payload_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_longer_than_its_content_length_claims_is_still_cut_at_one_mib() {
    let app = app().await;
    let token = app.publisher_token();
    let reply = app
        .send(raw_create(&token, vec![b' '; ONE_MIB + 1]).insert_header((CONTENT_LENGTH, "10")))
        .await;
    reply.assert_error(413, "payload_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_down_is_a_503() {
    let app = TestApp::with_repository(storage_failing_with(unavailable));
    let reply = app
        .create(
            &app.publisher_token(),
            &valid_body(Uuid::now_v7()),
        )
        .await;
    reply.assert_error(503, "service_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_is_a_500_that_leaks_nothing() {
    let app = TestApp::with_repository(storage_failing_with(broken));
    let reply = app
        .create(
            &app.publisher_token(),
            &valid_body(Uuid::now_v7()),
        )
        .await;
    let error = reply.assert_error(500, "internal");
    assert_eq!(error["message"], "internal error");
    let text = String::from_utf8_lossy(&reply.body);
    assert!(!text.contains("relation"), "{text}");
}
