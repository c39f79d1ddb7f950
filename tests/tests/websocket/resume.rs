//! `?since=`: resuming without a gap (contract §5, issue "Never lose a notification").

use std::collections::HashSet;

use notification_e2e::ws::Connect;
use notification_e2e::{on_both_backends, spawn_app, Backend};
use serde_json::Value;

fn id_of(message: &Value) -> String {
    message["data"]["notification_id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn since_replays_what_was_missed_oldest_first_then_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let seen = app.create_for(user, "seen").await;
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(app.create_for(user, &format!("missed {i}")).await);
    }
    let mut socket = app
        .ws_since(&token, seen["notification_id"].as_str().unwrap())
        .await;
    for (i, expected) in missed.iter().enumerate() {
        let message = socket.expect("notification").await;
        assert_eq!(&message["data"], expected);
        // As right after that change: "seen" was the first.
        assert_eq!(message["unread_count"], i + 2);
        assert_eq!(message["seq"], i + 2);
    }
    let live = app.create_for(user, "live").await;
    assert_eq!(socket.expect("notification").await["data"], live);
}

async fn a_malformed_since_is_400_before_the_upgrade(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.new_user();
    let refused = app
        .ws_connect(Connect {
            query_token: Some(&token),
            query: Some("since=yesterday"),
            ..Connect::default()
        })
        .await;
    assert_eq!(refused.err(), Some(400));
}

async fn a_since_of_another_user_is_reported_then_live_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let (other, _) = app.new_user();
    app.create_for(user, "mine, before").await;
    let foreign = app.create_for(other, "not yours").await;
    let mut socket = app
        .ws_since(&token, foreign["notification_id"].as_str().unwrap())
        .await;
    let error = socket.expect("error").await;
    assert_eq!(error["error"]["code"], "unknown_since");
    let live = app.create_for(user, "live").await;
    assert_eq!(socket.expect("notification").await["data"], live);
}

/// A client that reconnects with `since` again and again while notifications
/// are created as fast as possible: the union of what it received covers every
/// created id, and each connection sees them in creation order.
async fn reconnecting_with_since_under_load_loses_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let first = app.create_for(user, "start").await;
    let mut last_seen = id_of(&serde_json::json!({"data": first}));

    const TOTAL: usize = 300;
    let creator = {
        let base = app.base_url.clone();
        let publisher = app.publisher_token();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut ids = Vec::with_capacity(TOTAL);
            for i in 0..TOTAL {
                let response = client
                    .post(format!("{base}/api/v1/notifications"))
                    .bearer_auth(&publisher)
                    .json(&serde_json::json!({"user_id": user, "title": format!("n{i}"), "message": "m"}))
                    .send()
                    .await
                    .expect("create");
                assert_eq!(response.status(), 201);
                let body: Value = response.json().await.expect("json");
                ids.push(body["notification_id"].as_str().unwrap().to_owned());
            }
            ids
        })
    };

    let mut received: HashSet<String> = HashSet::new();
    let mut connections = 0;
    while received.len() < TOTAL {
        connections += 1;
        let mut socket = app.ws_since(&token, &last_seen).await;
        // Read a handful of new ones, then drop the connection as a flaky
        // network would.
        let mut previous: Option<String> = None;
        let mut new_here = 0;
        while new_here < 7 && received.len() < TOTAL {
            let id = id_of(&socket.expect("notification").await);
            if let Some(previous) = &previous {
                if &id <= previous {
                    // Out of order is only allowed for an at-least-once repeat.
                    assert!(received.contains(&id), "{id} arrived after {previous}");
                    continue;
                }
            }
            previous = Some(id.clone());
            if received.insert(id.clone()) {
                new_here += 1;
            }
            if id > last_seen {
                last_seen = id;
            }
        }
        drop(socket);
    }
    let created = creator.await.expect("creator task");
    // A last resume collects whatever came after the final drop.
    let mut socket = app.ws_since(&token, &last_seen).await;
    while created.iter().any(|id| !received.contains(id)) {
        let message = socket.expect("notification").await;
        received.insert(id_of(&message));
    }
    assert!(connections > 3, "the test reconnected {connections} times");
    for id in &created {
        assert!(received.contains(id), "{id} was never delivered");
    }
}

on_both_backends!(
    since_replays_what_was_missed_oldest_first_then_live,
    a_malformed_since_is_400_before_the_upgrade,
    a_since_of_another_user_is_reported_then_live_only,
    reconnecting_with_since_under_load_loses_nothing,
);
