//! Contract §7 over REST: `seq` in the reads, and the changes feed
//! `GET /api/v1/changes` (paging, the same messages a socket received, 410
//! and 400s).

use notification_e2e::{on_both_backends, spawn_app, Backend, TestApp};
use serde_json::Value;

/// `GET /api/v1/changes{query}` → (status, body).
async fn changes(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/changes{query}"),
            Some(token),
        )
        .await;
    notification_e2e::app::status_and_json(response).await
}

/// Follows the feed from `after` with pages of `limit`; returns every change.
async fn every_change(app: &TestApp, token: &str, mut after: u64, limit: u32) -> Vec<Value> {
    let mut all = Vec::new();
    for _ in 0..100 {
        let (status, page) =
            changes(app, token, &format!("?after_seq={after}&limit={limit}")).await;
        assert_eq!(status, 200, "{page}");
        let batch = page["changes"].as_array().unwrap().clone();
        assert!(batch.len() <= limit as usize);
        if let Some(last) = batch.last() {
            after = last["seq"].as_u64().unwrap();
        }
        all.extend(batch);
        if !page["has_more"].as_bool().unwrap() {
            assert_eq!(
                page["seq"].as_u64().unwrap(),
                after,
                "the last page ends at the latest"
            );
            return all;
        }
    }
    panic!("the feed never ended");
}

async fn the_feed_replays_the_very_messages_a_socket_received(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let first = app.create_id(user, "first").await;
    let second = app.create_id(user, "second").await;
    app.act(&token, &first, "read").await;
    app.act(&token, &first, "read").await; // a repeat: no change, no message
    app.act(&token, &second, "archive").await;
    app.act(&token, &second, "unread").await;
    app.create_for(user, "third").await;
    app.read_all(&token).await;
    assert_eq!(app.delete(&token, &first).await, 204);
    let mut received = Vec::new();
    for _ in 0..8 {
        received.push(socket.next_json().await);
    }
    let seqs: Vec<u64> = received
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>(), "{received:?}");

    for limit in [1, 3, 100] {
        assert_eq!(
            every_change(&app, &token, 0, limit).await,
            received,
            "pages of {limit} replay every message exactly"
        );
    }
    assert_eq!(
        every_change(&app, &token, 5, 2).await,
        received[5..].to_vec()
    );
}

/// The whole body of `GET /api/v1/notifications/unread-count`.
async fn unread_count(app: &TestApp, token: &str) -> Value {
    let response = app
        .request(
            reqwest::Method::GET,
            "/api/v1/notifications/unread-count",
            Some(token),
        )
        .await;
    notification_e2e::app::status_and_json(response).await.1
}

async fn reads_carry_the_latest_seq(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    assert_eq!(
        unread_count(&app, &token).await,
        serde_json::json!({"unread_count": 0, "seq": 0})
    );
    let id = app.create_id(user, "a").await;
    app.create_for(user, "b").await;
    app.act(&token, &id, "read").await;
    assert_eq!(
        unread_count(&app, &token).await,
        serde_json::json!({"unread_count": 1, "seq": 3})
    );
    let (status, page) = app.list(&token, "?limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(page["seq"], 3, "{page}");
}

async fn the_feed_answers_410_beyond_the_latest_and_an_empty_page_at_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let (status, page) = changes(&app, &token, "?after_seq=0").await;
    assert_eq!(status, 200);
    assert_eq!(
        page,
        serde_json::json!({"changes": [], "seq": 0, "has_more": false})
    );
    app.create_for(user, "a").await;
    app.create_for(user, "b").await;

    let (status, page) = changes(&app, &token, "?after_seq=2").await;
    assert_eq!(status, 200);
    assert_eq!(
        page,
        serde_json::json!({"changes": [], "seq": 2, "has_more": false})
    );
    let beyond = app
        .send(
            app.http(reqwest::Method::GET, "/api/v1/changes?after_seq=3")
                .bearer_auth(&token),
        )
        .await;
    beyond.assert_error(410, "resync_required");
}

async fn malformed_feed_parameters_are_400_and_a_token_is_required(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.new_user();
    for query in [
        "",
        "?after_seq=",
        "?after_seq=-1",
        "?after_seq=abc",
        "?after_seq=1.5",
        "?after_seq=0&limit=0",
        "?after_seq=0&limit=501",
        "?after_seq=0&limit=x",
    ] {
        let reply = app
            .send(
                app.http(reqwest::Method::GET, &format!("/api/v1/changes{query}"))
                    .bearer_auth(&token),
            )
            .await;
        reply.assert_error(400, "bad_request");
    }
    let anonymous = app
        .send(app.http(reqwest::Method::GET, "/api/v1/changes?after_seq=0"))
        .await;
    anonymous.assert_error(401, "unauthorized");
}

on_both_backends!(
    the_feed_replays_the_very_messages_a_socket_received,
    reads_carry_the_latest_seq,
    the_feed_answers_410_beyond_the_latest_and_an_empty_page_at_it,
    malformed_feed_parameters_are_400_and_a_token_is_required,
);
