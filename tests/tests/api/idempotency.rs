//! Contract §4: `Idempotency-Key` on `POST /api/v1/notifications`. A repeat
//! by the same publisher answers the first response and notifies nobody again.

use notification_e2e::app::status_and_json;
use notification_e2e::{on_both_backends, spawn_app, Backend, TestApp};
use reqwest::Response;
use serde_json::{json, Value};
use tokio::task::JoinSet;
use uuid::Uuid;

/// What a create request answered.
struct Created {
    status: u16,
    location: Option<String>,
    replayed: Option<String>,
    body: Value,
}

impl Created {
    async fn read(response: Response) -> Self {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (location, replayed) = (header("location"), header("idempotent-replayed"));
        let (status, body) = status_and_json(response).await;
        Self {
            status,
            location,
            replayed,
            body,
        }
    }

    fn id(&self) -> &str {
        self.body["notification_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a notification: {}", self.body))
    }
}

/// `POST /api/v1/notifications` with an `Idempotency-Key`.
async fn create_with_key(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Created {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request reaches the server");
    Created::read(response).await
}

async fn create_keyed(app: &TestApp, token: &str, key: &str, body: &Value) -> Created {
    let url = app.url("/api/v1/notifications");
    create_with_key(&app.client, &url, token, key, body).await
}

fn body_for(user: Uuid, title: &str) -> Value {
    json!({"user_id": user, "title": title, "message": "Uma nova transação foi criada",
           "metadata": {"order": 42}})
}

/// Every notification in the user's inbox, newest first.
async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, page) = app.list(token, "?limit=100").await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("items").clone()
}

async fn a_repeat_answers_the_first_response_and_notifies_nobody_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let publisher = app.publisher_token();
    let key = Uuid::new_v4().to_string();

    let first = create_keyed(&app, &publisher, &key, &body_for(user, "Paid")).await;
    let repeat = create_keyed(&app, &publisher, &key, &body_for(user, "Paid")).await;

    assert_eq!((first.status, repeat.status), (201, 201));
    assert_eq!(first.replayed, None);
    assert_eq!(repeat.replayed.as_deref(), Some("true"));
    assert_eq!(repeat.id(), first.id());
    assert_eq!(repeat.body, first.body);
    assert_eq!(
        first.location,
        Some(format!("/api/v1/notifications/{}", first.id()))
    );
    assert_eq!(repeat.location, first.location);
    let items = inbox(&app, &user_token).await;
    assert_eq!(items, [first.body]);
    assert_eq!(app.unread_count(&user_token).await, 1);
}

async fn a_repeat_after_the_notification_changed_still_answers_the_first_response(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let publisher = app.publisher_token();
    let first = create_keyed(&app, &publisher, "order-42", &body_for(user, "Paid")).await;
    let (status, _) = app.act(&user_token, first.id(), "read").await;
    assert_eq!(status, 200);

    let repeat = create_keyed(&app, &publisher, "order-42", &body_for(user, "Paid")).await;

    assert_eq!(repeat.status, 201);
    assert_eq!(repeat.body, first.body, "UNREAD, as first answered");
    assert_eq!(app.delete(&user_token, first.id()).await, 204);
    let after_delete = create_keyed(&app, &publisher, "order-42", &body_for(user, "Paid")).await;
    assert_eq!(after_delete.status, 201);
    assert_eq!(after_delete.body, first.body);
    assert!(
        inbox(&app, &user_token).await.is_empty(),
        "nothing recreated"
    );
}

async fn the_same_key_with_a_different_body_is_422_idempotency_key_reused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let publisher = app.publisher_token();
    create_keyed(&app, &publisher, "order-42", &body_for(user, "Paid")).await;

    let reused = create_keyed(&app, &publisher, "order-42", &body_for(user, "Refunded")).await;

    assert_eq!(reused.status, 422, "{}", reused.body);
    assert_eq!(reused.body["error"]["code"], "idempotency_key_reused");
    assert_eq!(reused.body["error"]["field"], "Idempotency-Key");
    assert_eq!(reused.replayed, None);
    assert_eq!(inbox(&app, &user_token).await.len(), 1);
}

async fn concurrent_requests_with_one_key_create_one_notification(backend: Backend) {
    const REQUESTS: usize = 10;
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let publisher = app.publisher_token();
    let key = Uuid::new_v4().to_string();
    let body = body_for(user, "Paid");

    let mut requests = JoinSet::new();
    for _ in 0..REQUESTS {
        let (client, url) = (app.client.clone(), app.url("/api/v1/notifications"));
        let (publisher, key, body) = (publisher.clone(), key.clone(), body.clone());
        requests
            .spawn(async move { create_with_key(&client, &url, &publisher, &key, &body).await });
    }
    let answers: Vec<Created> = requests.join_all().await;

    assert!(answers.iter().all(|a| a.status == 201));
    let first = answers
        .iter()
        .find(|a| a.replayed.is_none())
        .expect("one request created");
    assert_eq!(
        answers.iter().filter(|a| a.replayed.is_none()).count(),
        1,
        "the others are replays"
    );
    assert!(answers.iter().all(|a| a.body == first.body));
    assert_eq!(inbox(&app, &user_token).await.len(), 1);
    assert_eq!(app.unread_count(&user_token).await, 1);
}

async fn keys_belong_to_their_publisher(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let (one, other) = (app.publisher_token(), app.publisher_token());

    let first = create_keyed(&app, &one, "order-42", &body_for(user, "Paid")).await;
    let second = create_keyed(&app, &other, "order-42", &body_for(user, "Paid")).await;

    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(second.replayed, None);
    assert_ne!(second.id(), first.id());
    assert_eq!(inbox(&app, &user_token).await.len(), 2);
}

async fn without_a_key_a_repeat_creates_a_second_notification(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let publisher = app.publisher_token();

    for _ in 0..2 {
        let response = app.create_json(&publisher, &body_for(user, "Paid")).await;
        let created = Created::read(response).await;
        assert_eq!(created.status, 201);
        assert_eq!(created.replayed, None);
    }

    assert_eq!(inbox(&app, &user_token).await.len(), 2);
    assert_eq!(app.unread_count(&user_token).await, 2);
}

async fn a_malformed_key_is_422_naming_the_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, user_token) = app.new_user();
    let publisher = app.publisher_token();

    let answer = create_keyed(&app, &publisher, &"k".repeat(256), &body_for(user, "Paid")).await;

    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["error"]["code"], "validation_failed");
    assert_eq!(answer.body["error"]["field"], "Idempotency-Key");
    assert!(inbox(&app, &user_token).await.is_empty());
}

on_both_backends!(
    a_repeat_answers_the_first_response_and_notifies_nobody_again,
    a_repeat_after_the_notification_changed_still_answers_the_first_response,
    the_same_key_with_a_different_body_is_422_idempotency_key_reused,
    concurrent_requests_with_one_key_create_one_notification,
    keys_belong_to_their_publisher,
    without_a_key_a_repeat_creates_a_second_notification,
    a_malformed_key_is_422_naming_the_header,
);
