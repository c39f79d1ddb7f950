//! Contract §2: who may call what.

use notification_e2e::tokens::{mint, TokenKind};
use notification_e2e::{on_both_backends, spawn_app, Backend};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

async fn assert_unauthorized(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 401, "{case}: status");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer"),
        "{case}: WWW-Authenticate is {challenge:?}"
    );
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], "unauthorized", "{case}: code");
}

async fn every_bad_token_is_rejected_with_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let sub = Uuid::now_v7();
    let mut cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("malformed", Some("not.a.jwt".to_owned())),
        ("garbage", Some("x".to_owned())),
    ];
    for (name, kind) in [
        ("wrong key", TokenKind::WrongKey),
        ("expired", TokenKind::Expired),
        ("alg none", TokenKind::AlgNone),
        ("missing sub", TokenKind::MissingSub),
        ("sub not a uuid", TokenKind::NonUuidSub),
    ] {
        cases.push((name, Some(mint(kind, sub))));
    }
    for (case, token) in &cases {
        for (method, path) in [
            (Method::GET, "/api/v1/notifications"),
            (Method::GET, "/api/v1/notifications/unread-count"),
            (Method::POST, "/api/v1/notifications/read-all"),
        ] {
            let response = app.request(method, path, token.as_deref()).await;
            assert_unauthorized(response, &format!("{case} on {path}")).await;
        }
        let mut create = app.client.post(app.url("/api/v1/notifications"));
        if let Some(token) = token {
            create = create.bearer_auth(token);
        }
        let response = create
            .json(&json!({"user_id": sub, "title": "t", "message": "m"}))
            .send()
            .await
            .expect("request reaches the server");
        assert_unauthorized(response, &format!("{case} on create")).await;
    }
}

async fn a_query_token_is_not_accepted_on_rest_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.new_user();
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/notifications?token={token}"),
            None,
        )
        .await;
    assert_eq!(response.status(), 401);
}

async fn a_user_token_cannot_publish(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let response = app
        .create_json(
            &token,
            &json!({"user_id": user, "title": "t", "message": "m"}),
        )
        .await;
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
}

async fn a_publisher_token_can_publish_for_any_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let created = app.create_for(user, "for you").await;
    assert_eq!(created["user_id"], user.to_string());
    let (status, list) = app.list(&token, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        list["items"][0]["notification_id"],
        created["notification_id"]
    );
}

on_both_backends!(
    every_bad_token_is_rejected_with_401,
    a_query_token_is_not_accepted_on_rest_endpoints,
    a_user_token_cannot_publish,
    a_publisher_token_can_publish_for_any_user,
);
