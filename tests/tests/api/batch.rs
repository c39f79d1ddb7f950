//! Contract §9: `POST /api/v1/notifications/batch`: 1–1000 creates, all or
//! nothing, each pushed to its user; an `Idempotency-Key` for the whole batch;
//! a body of up to 8 MiB.

use notification_e2e::app::status_and_json;
use notification_e2e::{on_both_backends, spawn_app, Backend, TestApp};
use reqwest::Response;
use serde_json::{json, Value};
use uuid::Uuid;

const MIB: usize = 1024 * 1024;

fn item(user: Uuid, title: &str) -> Value {
    json!({"user_id": user, "title": title, "message": format!("message of {title}")})
}

fn batch(items: Vec<Value>) -> Value {
    json!({"notifications": items})
}

/// `POST /api/v1/notifications/batch` as a publisher, with an optional key.
async fn post_batch(app: &TestApp, token: &str, key: Option<&str>, body: Vec<u8>) -> Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/notifications/batch"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.expect("request reaches the server")
}

async fn create_batch(app: &TestApp, key: Option<&str>, body: &Value) -> (u16, Value) {
    let token = app.publisher_token();
    status_and_json(post_batch(app, &token, key, body.to_string().into_bytes()).await).await
}

fn titles(created: &Value) -> Vec<String> {
    created["notifications"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| n["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn a_batch_is_stored_in_order_and_each_item_pushed_to_its_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let ((alice, alice_token), (bob, bob_token)) = (app.new_user(), app.new_user());
    let (mut alice_ws, mut bob_ws) = (app.ws(&alice_token).await, app.ws(&bob_token).await);

    let (status, created) = create_batch(
        &app,
        None,
        &batch(vec![
            item(alice, "a1"),
            item(bob, "b1"),
            item(alice, "a2"),
            item(alice, "a3"),
        ]),
    )
    .await;

    assert_eq!(status, 201, "{created}");
    assert_eq!(titles(&created), ["a1", "b1", "a2", "a3"]);
    let list = created["notifications"].as_array().unwrap();
    for (seq, index) in [(1, 0), (2, 2), (3, 3)] {
        let message = alice_ws.expect("notification").await;
        assert_eq!(message["seq"], seq, "consecutive seqs in item order");
        assert_eq!(message["data"], list[index]);
        assert_eq!(message["unread_count"], seq);
    }
    let message = bob_ws.expect("notification").await;
    assert_eq!(
        (message["seq"].clone(), message["data"].clone()),
        (json!(1), list[1].clone())
    );
    assert_eq!(app.stored_for(alice).await, 3);
}

async fn an_invalid_item_is_a_422_naming_it_and_nothing_is_stored_or_pushed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let mut items: Vec<Value> = (0..5).map(|i| item(alice, &format!("n{i}"))).collect();
    items[3]["title"] = json!("   ");

    let (status, error) = create_batch(&app, None, &batch(items)).await;

    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "validation_failed");
    assert_eq!(error["error"]["field"], "notifications[3].title");
    assert_eq!(app.stored_for(alice).await, 0);
    // No seq was taken and nothing was pushed: the next create is the first.
    let created = app.create_for(alice, "after").await;
    let message = socket.expect("notification").await;
    assert_eq!(
        (message["seq"].clone(), message["data"].clone()),
        (json!(1), created)
    );
}

async fn an_empty_or_too_long_list_is_a_422_naming_the_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, _) = app.new_user();
    for count in [0, 1001] {
        let items: Vec<Value> = (0..count).map(|i| item(alice, &format!("n{i}"))).collect();
        let (status, error) = create_batch(&app, None, &batch(items)).await;
        assert_eq!(status, 422, "{count} items: {error}");
        assert_eq!(error["error"]["field"], "notifications", "{count} items");
    }
    assert_eq!(app.stored_for(alice).await, 0);
}

async fn a_body_over_one_mib_is_taken_and_one_over_eight_mib_is_a_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, _) = app.new_user();
    // 200 items with 6 KiB of metadata each: about 1.2 MiB.
    let items: Vec<Value> = (0..200)
        .map(|i| {
            let mut item = item(alice, &format!("n{i}"));
            item["metadata"] = json!({"blob": "x".repeat(6 * 1024)});
            item
        })
        .collect();
    let body = batch(items).to_string().into_bytes();
    assert!(body.len() > MIB);
    let response = post_batch(&app, &app.publisher_token(), None, body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.stored_for(alice).await, 100, "the first page of 200");

    let response = post_batch(&app, &app.publisher_token(), None, vec![b' '; 8 * MIB + 1]).await;
    let (status, error) = status_and_json(response).await;
    assert_eq!(status, 413);
    assert_eq!(error["error"]["code"], "payload_too_large");
}

async fn a_repeat_with_the_key_answers_the_same_list_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ((alice, token), (bob, _)) = (app.new_user(), app.new_user());
    let body = batch(vec![item(alice, "a"), item(bob, "b")]);
    let key = format!("campaign-{}", Uuid::now_v7());
    let publisher = app.publisher_token();
    let mut socket = app.ws(&token).await;

    let first = post_batch(&app, &publisher, Some(&key), body.to_string().into_bytes()).await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (status, created) = status_and_json(first).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(socket.expect("notification").await["seq"], 1);

    let again = post_batch(&app, &publisher, Some(&key), body.to_string().into_bytes()).await;
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let (status, replayed) = status_and_json(again).await;
    assert_eq!((status, &replayed), (201, &created), "the same list");
    assert_eq!(app.stored_for(alice).await, 1);
    assert_eq!(app.stored_for(bob).await, 1);

    let other = batch(vec![item(alice, "a"), item(bob, "changed")]);
    let reused = post_batch(&app, &publisher, Some(&key), other.to_string().into_bytes()).await;
    let (status, error) = status_and_json(reused).await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    assert_eq!(error["error"]["field"], "Idempotency-Key");

    // Nothing of the repeats was pushed: the next change is seq 2.
    app.create_for(alice, "next").await;
    assert_eq!(socket.expect("notification").await["seq"], 2);
}

async fn a_thousand_items_for_one_user_all_reach_their_socket_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let items: Vec<Value> = (0..1000).map(|i| item(alice, &format!("n{i}"))).collect();

    let (status, created) = create_batch(&app, None, &batch(items)).await;

    assert_eq!(status, 201);
    let list = created["notifications"].as_array().unwrap();
    for (index, expected) in list.iter().enumerate() {
        // `expect` panics on a close frame: a 1013 fails here.
        let message = socket.expect("notification").await;
        assert_eq!(message["seq"], index + 1);
        assert_eq!(
            message["data"]["notification_id"],
            expected["notification_id"]
        );
    }
    let next = app.create_for(alice, "still open").await;
    assert_eq!(socket.expect("notification").await["data"], next);
}

on_both_backends!(
    a_batch_is_stored_in_order_and_each_item_pushed_to_its_user,
    an_invalid_item_is_a_422_naming_it_and_nothing_is_stored_or_pushed,
    an_empty_or_too_long_list_is_a_422_naming_the_list,
    a_body_over_one_mib_is_taken_and_one_over_eight_mib_is_a_413,
    a_repeat_with_the_key_answers_the_same_list_and_stores_nothing,
    a_thousand_items_for_one_user_all_reach_their_socket_in_order,
);
