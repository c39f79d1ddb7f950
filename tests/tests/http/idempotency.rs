//! `Idempotency-Key` on `POST /api/v1/notifications`: a repeat answers the
//! first response and notifies nobody again.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::*;

fn body_for(user: Uuid, title: &str) -> Value {
    json!({"user_id": user, "title": title, "message": "Uma nova transação foi criada"})
}

/// A create request with `key` in its `Idempotency-Key` header.
fn keyed_create(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
    app.create_request(token, body.to_string())
        .header("Idempotency-Key", key)
}

/// Asserts `user`'s socket got exactly `count` new notifications.
async fn assert_created_pushes(app: &TestApp, socket: &mut WsClient, user: Uuid, count: usize) {
    for _ in 0..count {
        socket.expect("notification").await;
    }
    assert_no_more_pushes(app, socket, user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_answers_the_first_response_marked_replayed_and_notifies_nobody_again() {
    let app = app().await;
    let token = app.publisher_token();
    let user = Uuid::now_v7();
    let mut socket = app.ws(&app.user_token(user)).await;
    let body = body_for(user, "Paid");

    let first = app
        .send(keyed_create(&app, &token, "order-42", &body))
        .await;
    let repeat = app
        .send(keyed_create(&app, &token, "order-42", &body))
        .await;

    assert_eq!(first.status, 201);
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(repeat.status, 201);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_eq!(repeat.json(), first.json());
    assert!(first.header("location").is_some());
    assert_eq!(repeat.header("location"), first.header("location"));
    assert_eq!(app.stored_for(user).await, 1);
    assert_created_pushes(&app, &mut socket, user, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_differing_only_in_what_validation_normalizes_is_a_replay() {
    let app = app().await;
    let token = app.publisher_token();
    let user = Uuid::now_v7();
    let first =
        json!({"user_id": user, "title": "Paid", "message": "m", "metadata": {"a": 1, "b": 2}});
    let same = json!({"metadata": {"b": 2, "a": 1}, "type": "INFO", "message": "m",
                      "title": "  Paid ", "user_id": user});

    app.send(keyed_create(&app, &token, "k", &first)).await;
    let repeat = app.send(keyed_create(&app, &token, "k", &same)).await;

    assert_eq!(repeat.status, 201);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.stored_for(user).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_with_a_different_body_is_a_422_idempotency_key_reused() {
    let app = app().await;
    let token = app.publisher_token();
    let user = Uuid::now_v7();
    let mut socket = app.ws(&app.user_token(user)).await;
    app.send(keyed_create(
        &app,
        &token,
        "order-42",
        &body_for(user, "Paid"),
    ))
    .await;

    let reply = app
        .send(keyed_create(
            &app,
            &token,
            "order-42",
            &body_for(user, "Refunded"),
        ))
        .await;

    let error = reply.assert_error(422, "idempotency_key_reused");
    assert_eq!(error["field"], "Idempotency-Key");
    assert_eq!(reply.header("idempotent-replayed"), None);
    assert_eq!(app.stored_for(user).await, 1);
    assert_created_pushes(&app, &mut socket, user, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_their_publisher_so_another_publisher_creates_again() {
    let app = app().await;
    let user = Uuid::now_v7();
    let mut socket = app.ws(&app.user_token(user)).await;
    let body = body_for(user, "Paid");
    let (one, other) = (app.publisher_token(), app.publisher_token());

    let first = app.send(keyed_create(&app, &one, "order-42", &body)).await;
    let second = app
        .send(keyed_create(&app, &other, "order-42", &body))
        .await;

    assert_eq!(second.status, 201);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(
        first.json()["notification_id"],
        second.json()["notification_id"]
    );
    assert_eq!(app.stored_for(user).await, 2);
    assert_created_pushes(&app, &mut socket, user, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_every_request_creates() {
    let app = app().await;
    let token = app.publisher_token();
    let user = Uuid::now_v7();
    let body = body_for(user, "Paid");

    app.create(&token, &body).await;
    let second = app.create(&token, &body).await;

    assert_eq!(second.status, 201);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_eq!(app.stored_for(user).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_key_is_a_422_naming_the_header_and_stores_nothing() {
    let app = app().await;
    let token = app.publisher_token();
    let user = Uuid::now_v7();
    let body = body_for(user, "Paid");
    for key in [&"k".repeat(256), "has space", ""] {
        let reply = app.send(keyed_create(&app, &token, key, &body)).await;
        reply.assert_invalid_field("Idempotency-Key");
    }
    assert_eq!(app.stored_for(user).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_token_with_a_key_is_still_forbidden() {
    let app = app().await;
    let reply = app
        .send(keyed_create(
            &app,
            &app.user_token(Uuid::now_v7()),
            "order-42",
            &body_for(Uuid::now_v7(), "Paid"),
        ))
        .await;
    reply.assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_key_the_replay_header_and_the_422() {
    let app = app().await;
    let doc = app
        .send(app.http(Method::GET, "/api/openapi.json"))
        .await
        .json();
    let create = &doc["paths"]["/api/v1/notifications"]["post"];
    let parameters = create["parameters"].as_array().unwrap();
    assert!(parameters
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    assert!(create["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
    let unprocessable = create["responses"]["422"]["description"].as_str().unwrap();
    assert!(
        unprocessable.contains("idempotency_key_reused"),
        "{unprocessable}"
    );
}
