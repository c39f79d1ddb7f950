//! Listing, reading one, and the unread count.

use serde_json::Value;
use uuid::Uuid;

use crate::*;

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_newest_first_and_leaves_archived_out() {
    let app = app().await;
    let user = Uuid::now_v7();
    let token = app.user_token(user);
    for title in ["first", "second", "third"] {
        app.create_id(user, title).await;
    }
    let archived = app.create_id(user, "archived").await;
    app.call(
        Method::POST,
        &format!("/api/v1/notifications/{archived}/archive"),
        &token,
    )
    .await;
    app.create_id(Uuid::now_v7(), "someone else's").await;

    let page = app.call(Method::GET, "/api/v1/notifications", &token).await;
    assert_eq!(page.status, 200);
    let page = page.json();
    assert_eq!(titles(&page), ["third", "second", "first"]);
    assert_eq!(page["next_cursor"], Value::Null);

    let only_archived = app
        .call(Method::GET, "/api/v1/notifications?status=ARCHIVED", &token)
        .await
        .json();
    assert_eq!(titles(&only_archived), ["archived"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_the_cursor_to_the_end() {
    let app = app().await;
    let user = Uuid::now_v7();
    let token = app.user_token(user);
    for i in 0..5 {
        app.create_id(user, &format!("n{i}")).await;
    }

    let mut seen = Vec::new();
    let mut uri = "/api/v1/notifications?limit=2".to_owned();
    loop {
        let page = app.call(Method::GET, &uri, &token).await;
        assert_eq!(page.status, 200);
        let page = page.json();
        seen.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/v1/notifications?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["n4", "n3", "n2", "n1", "n0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_parameters_are_422s_naming_them() {
    let app = app().await;
    let token = app.user_token(Uuid::now_v7());
    let cases = [
        ("status=DONE", "status"),
        ("status=unread", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
    ];
    for (query, field) in cases {
        app.call(
            Method::GET,
            &format!("/api/v1/notifications?{query}"),
            &token,
        )
        .await
        .assert_invalid_field(field);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_of_another_user_is_not_found() {
    let app = app().await;
    let owner = Uuid::now_v7();
    let id = app.create_id(owner, "private").await;
    let stranger = app.user_token(Uuid::now_v7());

    app.call(
        Method::GET,
        &format!("/api/v1/notifications/{id}"),
        &stranger,
    )
    .await
    .assert_error(404, "not_found");
    let own = app
        .call(
            Method::GET,
            &format!("/api/v1/notifications/{id}"),
            &app.user_token(owner),
        )
        .await;
    assert_eq!(own.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_ids_that_are_not_uuids_are_not_found() {
    let app = app().await;
    let token = app.user_token(Uuid::now_v7());
    for path in [
        "/api/v1/notifications/42",
        "/api/v1/notifications/not-a-uuid/read",
        "/api/v1/notifications/%00/archive",
    ] {
        let reply = if path.ends_with("42") {
            app.call(Method::GET, path, &token).await
        } else {
            app.call(Method::POST, path, &token).await
        };
        reply.assert_error(404, "not_found");
    }
    app.call(Method::DELETE, "/api/v1/notifications/zzz", &token)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unread_count_is_not_taken_for_an_id() {
    let app = app().await;
    let user = Uuid::now_v7();
    app.create_id(user, "a").await;
    app.create_id(user, "b").await;
    let reply = app
        .call(
            Method::GET,
            "/api/v1/notifications/unread-count",
            &app.user_token(user),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"unread_count": 2, "seq": 2})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_503_when_storage_is_down() {
    let (app, _database) = app_with_database_down().await;
    let token = app.user_token(Uuid::now_v7());
    app.call(Method::GET, "/api/v1/notifications", &token)
        .await
        .assert_error(503, "service_unavailable");
}
