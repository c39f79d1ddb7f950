//! `?since_seq=` and `?since=`: a device that was away gets exactly what a
//! connected witness received meanwhile, message for message.

use notification_e2e::ws::Connect;
use notification_e2e::{on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

use crate::support::{changes_until, connect, id_of, position};

/// Creates, reads, an archive, a delete, an unread and a read-all for `user`.
async fn all_kinds_of_changes(app: &TestApp, user: uuid::Uuid, token: &str) -> Vec<Value> {
    let mut created = Vec::new();
    for i in 0..4 {
        created.push(app.create_for(user, &format!("away {i}")).await);
    }
    let ids: Vec<String> = created.iter().map(id_of).collect();
    assert_eq!(app.act(token, &ids[0], "read").await.0, 200);
    assert_eq!(app.act(token, &ids[1], "archive").await.0, 200);
    assert_eq!(app.delete(token, &ids[2]).await, 204);
    assert_eq!(app.act(token, &ids[0], "unread").await.0, 200);
    assert_eq!(app.read_all(token).await.0, 200);
    created
}

async fn a_resume_replays_what_a_connected_witness_received(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut witness = connect(&app, &token, Some("since_seq=0")).await;
    let mut device = connect(&app, &token, Some("since_seq=0")).await;
    app.create_for(user, "seen by both").await;
    let seen = changes_until(&mut device, 0, 1).await;
    device.close().await;

    all_kinds_of_changes(&app, user, &token).await;
    let (latest, _) = position(&app, &token).await;
    let live = changes_until(&mut witness, 0, latest).await;
    assert_eq!(live[0], seen[0]);

    let mut resumed = connect(&app, &token, Some("since_seq=1")).await;
    let replayed = changes_until(&mut resumed, 1, latest).await;
    assert_eq!(replayed, live[1..], "message for message");

    // Then live ones, once.
    let marker = app.create_for(user, "after the resume").await;
    for socket in [&mut resumed, &mut witness] {
        let next = socket.expect("notification").await;
        assert_eq!(
            (next["seq"].as_u64(), &next["data"]),
            (Some(latest + 1), &marker)
        );
    }
}

async fn since_seq_equal_to_the_latest_sends_nothing_until_the_next_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    app.create_for(user, "old").await;
    let (latest, _) = position(&app, &token).await;
    let mut socket = connect(&app, &token, Some(&format!("since_seq={latest}"))).await;
    let marker = app.create_for(user, "next").await;
    let next = socket.expect("notification").await;
    assert_eq!(next["data"], marker);
    assert_eq!(next["seq"], latest + 1);
}

async fn since_the_newest_notification_sends_nothing_until_the_next_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    app.create_for(user, "older").await;
    let newest = app.create_for(user, "newest").await;
    let mut socket = app.ws_since(&token, &id_of(&newest)).await;
    let marker = app.create_for(user, "next").await;
    assert_eq!(socket.expect("notification").await["data"], marker);
}

async fn since_a_deleted_notification_replays_what_came_after_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut witness = connect(&app, &token, Some("since_seq=0")).await;
    let gone = app.create_for(user, "deleted later").await;
    let after = app.create_for(user, "after it").await;
    assert_eq!(app.delete(&token, &id_of(&gone)).await, 204);
    let live = changes_until(&mut witness, 0, 3).await;

    let mut socket = app.ws_since(&token, &id_of(&gone)).await;
    let replayed = changes_until(&mut socket, 1, 3).await;
    assert_eq!(replayed, live[1..]);
    assert_eq!(replayed[0]["data"], after);
    assert_eq!(replayed[1]["update_type"], "delete");
}

async fn since_seq_beyond_the_latest_gets_resync_first_then_live_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    app.create_for(user, "one").await;
    app.create_for(user, "two").await;
    let mut socket = connect(&app, &token, Some("since_seq=7")).await;
    assert_eq!(
        socket.next_json().await,
        json!({"type": "resync", "seq": 2, "unread_count": 2})
    );
    let marker = app.create_for(user, "three").await;
    let next = socket.expect("notification").await;
    assert_eq!((next["seq"].as_u64(), &next["data"]), (Some(3), &marker));
}

async fn malformed_or_conflicting_resume_points_are_400_before_the_upgrade(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.new_user();
    let since = uuid::Uuid::now_v7();
    for query in [
        "since_seq=-1".to_owned(),
        "since_seq=abc".to_owned(),
        "since_seq=1.5".to_owned(),
        "since_seq=".to_owned(),
        format!("since_seq=1&since={since}"),
    ] {
        let refused = app
            .ws_connect(Connect {
                query_token: Some(&token),
                query: Some(&query),
                ..Connect::default()
            })
            .await
            .err();
        assert_eq!(refused, Some(400), "{query}");
    }
}

on_both_backends!(
    a_resume_replays_what_a_connected_witness_received,
    since_seq_equal_to_the_latest_sends_nothing_until_the_next_change,
    since_the_newest_notification_sends_nothing_until_the_next_change,
    since_a_deleted_notification_replays_what_came_after_it,
    since_seq_beyond_the_latest_gets_resync_first_then_live_ones,
    malformed_or_conflicting_resume_points_are_400_before_the_upgrade,
);
