//! Client → server messages (contract §5).

use std::time::Duration;

use notification_e2e::tokens::{sign, TEST_SECRET};
use notification_e2e::{spawn_app, spawn_app_with, Backend};
use serde_json::json;
use uuid::Uuid;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_with_pong_and_the_time() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let before = now();
    socket.send_text(r#"{"type":"ping"}"#).await;
    let pong = socket.expect("pong").await;
    let timestamp = pong["timestamp"].as_i64().expect("a unix timestamp");
    assert!((before..=now()).contains(&timestamp), "{pong}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_unknown_types_and_binary_frames_get_an_error_and_the_socket_stays_open() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    for text in ["{not json", r#"{"type":"dance"}"#, r#"{"no_type":1}"#, "42"] {
        socket.send_text(text).await;
        let error = socket.expect("error").await;
        assert_eq!(error["error"]["code"], "invalid_message", "{text}: {error}");
        assert!(error["error"]["message"].is_string());
    }
    socket.send_binary(vec![1, 2, 3]).await;
    let error = socket.expect("error").await;
    assert_eq!(error["error"]["code"], "invalid_message");

    socket.send_text(r#"{"type":"ping"}"#).await;
    socket.expect("pong").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let padding = "x".repeat(600);
    socket
        .send_text(&format!(r#"{{"type":"ping","padding":"{padding}"}}"#))
        .await;
    assert_eq!(socket.expect_close().await.code, 1009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_frame_over_the_size_limit_closes_with_1009() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    socket.send_binary(vec![0; 600]).await;
    assert_eq!(socket.expect_close().await.code, 1009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_messages_past_ten_a_minute_are_rate_limited() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    for _ in 0..10 {
        socket
            .send_text(r#"{"type":"auth","token":"not-a-jwt"}"#)
            .await;
        assert_eq!(
            socket.expect("error").await["error"]["code"],
            "unauthorized"
        );
    }
    socket
        .send_text(&json!({"type": "auth", "token": token}).to_string())
        .await;
    assert_eq!(
        socket.expect("error").await["error"]["code"],
        "rate_limited"
    );
    socket.send_text(r#"{"type":"ping"}"#).await;
    socket.expect("pong").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_message_may_be_longer_than_the_normal_limit() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = Uuid::now_v7();
    let claims = json!({"sub": user, "exp": now() + 3600, "padding": "p".repeat(1500)});
    let long_token = sign(&claims, TEST_SECRET);
    assert!(long_token.len() > 1000);
    let mut socket = app
        .ws(&sign(&json!({"sub": user, "exp": now() + 60}), TEST_SECRET))
        .await;
    socket
        .send_text(&json!({"type": "auth", "token": long_token}).to_string())
        .await;
    let ok = socket.expect("auth_ok").await;
    assert_eq!(ok["expires_at"], claims["exp"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_refresh_keeps_the_socket_alive_past_the_first_tokens_expiry() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = Uuid::now_v7();
    let short = sign(&json!({"sub": user, "exp": now() + 2}), TEST_SECRET);
    let long = sign(&json!({"sub": user, "exp": now() + 3600}), TEST_SECRET);
    let mut socket = app.ws(&short).await;
    socket
        .send_text(&json!({"type": "auth", "token": long}).to_string())
        .await;
    socket.expect("auth_ok").await;

    // Past the first token's expiry (the behaviour under test is time passing).
    tokio::time::sleep(Duration::from_secs(3)).await;
    socket.send_text(r#"{"type":"ping"}"#).await;
    socket.expect("pong").await;
    app.create_for(user, "still here").await;
    socket.expect("notification").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_token_of_another_subject_closes_with_1008() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let (_, someone_else) = app.new_user();
    let mut socket = app.ws(&token).await;
    socket
        .send_text(&json!({"type": "auth", "token": someone_else}).to_string())
        .await;
    assert_eq!(socket.expect_close().await.code, 1008);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_expiry_closes_the_socket_with_1008() {
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(&database, &[]).await;
    let user = Uuid::now_v7();
    let token = sign(&json!({"sub": user, "exp": now() + 1}), TEST_SECRET);
    let mut socket = app.ws(&token).await;
    let closed = socket.expect_close().await;
    assert_eq!(closed.code, 1008);
    assert_eq!(closed.reason, "token expired");
}
