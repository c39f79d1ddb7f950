//! Contract §3 and §4: creating notifications, and every way to get it wrong.

use notification_e2e::app::status_and_json;
use notification_e2e::{on_both_backends, spawn_app, Backend};
use serde_json::{json, Value};
use uuid::Uuid;

async fn create_answers_201_with_the_resource_and_its_location(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::now_v7();
    let response = app
        .create_json(
            &app.publisher_token(),
            &json!({
                "user_id": user,
                "title": "  Nova transação  ",
                "message": "Uma nova transação foi criada",
                "type": "SUCCESS",
                "metadata": {"transaction_id": 42}
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("Location header");
    let body: Value = response.json().await.unwrap();
    let id = body["notification_id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/notifications/{id}"));
    assert_eq!(body["user_id"], user.to_string());
    assert_eq!(body["title"], "Nova transação", "the title is trimmed");
    assert_eq!(body["message"], "Uma nova transação foi criada");
    assert_eq!(body["type"], "SUCCESS");
    assert_eq!(body["status"], "UNREAD");
    assert_eq!(body["metadata"], json!({"transaction_id": 42}));
    assert_eq!(body["read_at"], Value::Null);
    assert_eq!(body["archived_at"], Value::Null);
    let created_at = body["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "UTC RFC 3339: {created_at}");
    let parsed = Uuid::parse_str(id).unwrap();
    assert_eq!(parsed.get_version_num(), 7, "ids are UUIDv7");
}

async fn type_and_metadata_have_defaults(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({"user_id": Uuid::now_v7(), "title": "t", "message": "m"});
    let (status, created) =
        status_and_json(app.create_json(&app.publisher_token(), &body).await).await;
    assert_eq!(status, 201);
    assert_eq!(created["type"], "INFO");
    assert_eq!(created["metadata"], json!({}));
}

async fn every_validation_rule_answers_422_with_its_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::now_v7().to_string();
    let valid = json!({"user_id": user, "title": "t", "message": "m"});
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("missing user_id", without("user_id"), "user_id"),
        (
            "user_id not a uuid",
            with("user_id", json!("bob")),
            "user_id",
        ),
        ("user_id a number", with("user_id", json!(7)), "user_id"),
        ("missing title", without("title"), "title"),
        ("blank title", with("title", json!("   ")), "title"),
        (
            "title of 256 chars",
            with("title", json!("é".repeat(256))),
            "title",
        ),
        ("title not a string", with("title", json!(1)), "title"),
        ("missing message", without("message"), "message"),
        ("empty message", with("message", json!("")), "message"),
        (
            "message of 4097 chars",
            with("message", json!("x".repeat(4097))),
            "message",
        ),
        ("unknown type", with("type", json!("URGENT")), "type"),
        ("lower-case type", with("type", json!("info")), "type"),
        (
            "metadata an array",
            with("metadata", json!([1])),
            "metadata",
        ),
        (
            "metadata a string",
            with("metadata", json!("x")),
            "metadata",
        ),
        (
            "metadata over 8 KiB",
            with("metadata", json!({"k": "x".repeat(8192)})),
            "metadata",
        ),
    ];
    let token = app.publisher_token();
    for (case, body, field) in cases {
        let (status, error) = status_and_json(app.create_json(&token, &body).await).await;
        assert_eq!(status, 422, "{case}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed", "{case}");
        assert_eq!(error["error"]["field"], field, "{case}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{case}"
        );
    }
    // The limits themselves are accepted.
    let edge = json!({"user_id": user, "title": "é".repeat(255), "message": "x".repeat(4096),
                      "metadata": {"k": "x".repeat(8192 - 8)}});
    assert_eq!(app.create_json(&token, &edge).await.status(), 201);
}

async fn a_json_body_that_is_not_an_object_is_422(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in ["[]", "\"x\"", "42", "null"] {
        let (status, error) =
            status_and_json(app.create_raw(&app.publisher_token(), body).await).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error["error"]["code"], "validation_failed");
    }
}

async fn malformed_json_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in ["{", "{\"user_id\":", "not json", ""] {
        let (status, error) =
            status_and_json(app.create_raw(&app.publisher_token(), body).await).await;
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(error["error"]["code"], "bad_request");
    }
}

async fn a_body_over_1_mib_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = format!("{{\"title\":\"{}\"}}", "x".repeat(1024 * 1024));
    let (status, error) = status_and_json(app.create_raw(&app.publisher_token(), body).await).await;
    assert_eq!(status, 413);
    assert_eq!(error["error"]["code"], "payload_too_large");
}

on_both_backends!(
    create_answers_201_with_the_resource_and_its_location,
    type_and_metadata_have_defaults,
    every_validation_rule_answers_422_with_its_field,
    a_json_body_that_is_not_an_object_is_422,
    malformed_json_is_400,
    a_body_over_1_mib_is_413,
);
