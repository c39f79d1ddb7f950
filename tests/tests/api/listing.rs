//! Contract §4: listing, pagination, filters and counts.

use std::collections::HashSet;

use notification_e2e::{on_both_backends, spawn_app, Backend, TestApp};
use serde_json::Value;
use uuid::Uuid;

async fn create_many(app: &TestApp, user: Uuid, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let created = app.create_for(user, &format!("n{i}")).await;
        ids.push(created["notification_id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items is an array")
        .iter()
        .map(|item| item["notification_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn pagination_returns_every_item_exactly_once_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let created = create_many(&app, user, 23).await;

    let mut seen = Vec::new();
    let mut query = "?limit=5".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = app.list(&token, &query).await;
        assert_eq!(status, 200, "{page}");
        let ids = ids_of(&page);
        assert!(ids.len() <= 5);
        seen.extend(ids);
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=5&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "pagination terminates");
    }
    assert_eq!(pages, 5);
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "every item once, newest first");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), created.len());
}

async fn the_default_page_is_20_and_limits_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    create_many(&app, user, 21).await;
    let (_, page) = app.list(&token, "").await;
    assert_eq!(ids_of(&page).len(), 20);
    assert!(page["next_cursor"].is_string());
    for bad in ["?limit=0", "?limit=101", "?limit=abc", "?limit=-1"] {
        let (status, error) = app.list(&token, bad).await;
        assert_eq!(status, 422, "{bad}");
        assert_eq!(error["error"]["field"], "limit", "{bad}");
    }
    let (status, page) = app.list(&token, "?limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(page["next_cursor"], Value::Null);
}

async fn a_malformed_cursor_or_status_is_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.new_user();
    let (status, error) = app.list(&token, "?cursor=%%%").await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["field"], "cursor");
    let (status, error) = app.list(&token, "?status=DONE").await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["field"], "status");
}

async fn the_status_filter_and_the_inbox_default(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let ids = create_many(&app, user, 3).await;
    app.act(&token, &ids[0], "read").await;
    app.act(&token, &ids[1], "archive").await;

    let (_, inbox) = app.list(&token, "").await;
    let inbox: HashSet<String> = ids_of(&inbox).into_iter().collect();
    assert_eq!(
        inbox,
        HashSet::from([ids[0].clone(), ids[2].clone()]),
        "archived left out"
    );

    for (status, expected) in [
        ("UNREAD", &ids[2]),
        ("READ", &ids[0]),
        ("ARCHIVED", &ids[1]),
    ] {
        let (code, page) = app.list(&token, &format!("?status={status}")).await;
        assert_eq!(code, 200);
        assert_eq!(ids_of(&page), vec![expected.clone()], "status={status}");
    }
}

async fn unread_count_follows_creates_and_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    assert_eq!(app.unread_count(&token).await, 0);
    let ids = create_many(&app, user, 4).await;
    assert_eq!(app.unread_count(&token).await, 4);
    app.act(&token, &ids[0], "read").await;
    app.act(&token, &ids[1], "archive").await;
    assert_eq!(app.unread_count(&token).await, 2);
    app.act(&token, &ids[0], "unread").await;
    assert_eq!(app.unread_count(&token).await, 3);
    app.delete(&token, &ids[2]).await;
    assert_eq!(app.unread_count(&token).await, 2);
}

on_both_backends!(
    pagination_returns_every_item_exactly_once_newest_first,
    the_default_page_is_20_and_limits_are_checked,
    a_malformed_cursor_or_status_is_422,
    the_status_filter_and_the_inbox_default,
    unread_count_follows_creates_and_changes,
);
