//! read, unread, archive, read-all and delete.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_answers_the_updated_resource_and_a_repeat_changes_nothing() {
    let app = app().await;
    let user = Uuid::now_v7();
    let token = app.user_token(user);
    let mut socket = app.ws(&token).await;
    let id = app.create_id(user, "n").await;
    socket.expect("notification").await;

    let first = app
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            &token,
        )
        .await;
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["status"], "READ");
    assert!(first["read_at"].is_string());

    let again = app
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            &token,
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), first, "same read_at, same everything");
    // One update for two requests.
    socket.expect("notification_update").await;
    assert_no_more_pushes(&app, &mut socket, user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_and_archive_answer_the_updated_resource() {
    let app = app().await;
    let user = Uuid::now_v7();
    let token = app.user_token(user);
    let id = app.create_id(user, "n").await;

    let archived = app
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{id}/archive"),
            &token,
        )
        .await;
    assert_eq!(archived.status, 200);
    assert_eq!(archived.json()["status"], "ARCHIVED");
    assert!(archived.json()["archived_at"].is_string());

    let unread = app
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{id}/unread"),
            &token,
        )
        .await;
    assert_eq!(unread.status, 200);
    let unread = unread.json();
    assert_eq!(unread["status"], "UNREAD");
    assert_eq!(unread["archived_at"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_on_another_users_notification_are_not_found() {
    let app = app().await;
    let id = app.create_id(Uuid::now_v7(), "n").await;
    let stranger = app.user_token(Uuid::now_v7());
    for action in ["read", "unread", "archive"] {
        app.call(
            Method::POST,
            &format!("/api/v1/notifications/{id}/{action}"),
            &stranger,
        )
        .await
        .assert_error(404, "not_found");
    }
    app.call(
        Method::DELETE,
        &format!("/api/v1/notifications/{id}"),
        &stranger,
    )
    .await
    .assert_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_all_answers_how_many_changed() {
    let app = app().await;
    let user = Uuid::now_v7();
    let token = app.user_token(user);
    for title in ["a", "b", "c"] {
        app.create_id(user, title).await;
    }
    let reply = app
        .call(Method::POST, "/api/v1/notifications/read-all", &token)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"updated": 3}));

    let again = app
        .call(Method::POST, "/api/v1/notifications/read-all", &token)
        .await;
    assert_eq!(again.json(), json!({"updated": 0}));
    let count = app
        .call(Method::GET, "/api/v1/notifications/unread-count", &token)
        .await
        .json();
    assert_eq!(count["unread_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_answers_204_and_the_notification_is_gone() {
    let app = app().await;
    let user = Uuid::now_v7();
    let token = app.user_token(user);
    let id = app.create_id(user, "n").await;

    let reply = app
        .call(
            Method::DELETE,
            &format!("/api/v1/notifications/{id}"),
            &token,
        )
        .await;
    assert_eq!(reply.status, 204);
    assert!(reply.body.is_empty());
    app.call(Method::GET, &format!("/api/v1/notifications/{id}"), &token)
        .await
        .assert_error(404, "not_found");
    app.call(
        Method::DELETE,
        &format!("/api/v1/notifications/{id}"),
        &token,
    )
    .await
    .assert_error(404, "not_found");
}
