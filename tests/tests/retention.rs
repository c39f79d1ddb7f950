//! Retention (contract §9, `NOTIFICATION_RETENTION`): notifications older
//! than the retention are deleted, each as an ordinary change of its user: a
//! `seq` in the change log, the unread counter kept exact, a `delete` update
//! pushed to the user's live sockets. Newer notifications stay.
//!
//! Old notifications are stored through the real repository on the server's
//! own database with ids and `created_at` of days ago (the API only creates
//! notifications now); the pass runs on the server's own service, so its
//! publishes reach the server's sockets as the background task's would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::collections::BTreeSet;
use std::time::Duration;

use notification_api::retention::{prune_once, RETENTION_PAUSE};
use notification_domain::{
    now, Notification, NotificationDraft, NotificationId, NotificationRepository, StatusChange,
    UserId,
};
use notification_e2e::{on_both_backends, spawn_app_with, Backend, TestApp};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::storage::{self, DatabaseUrl};
use notification_infrastructure::testing::{fresh_postgres_database, fresh_sqlite_url};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

const DAY: Duration = Duration::from_secs(86_400);

/// Stores one notification for `user` created `age` ago, with a UUIDv7 id of
/// that time (as it would have been given then); READ when `read`.
async fn store_old(
    repository: &dyn NotificationRepository,
    user: Uuid,
    age: Duration,
    read: bool,
) -> String {
    let created_at = now() - age;
    let millis = u64::try_from(created_at.unix_timestamp_nanos() / 1_000_000).unwrap();
    let id = uuid::Builder::from_unix_timestamp_millis(millis, &rand_bytes()).into_uuid();
    let draft =
        NotificationDraft::parse(UserId::from_uuid(user), "old", "from long ago", None, None)
            .expect("a valid draft");
    let notification = Notification::new(draft, NotificationId::from_uuid(id), created_at);
    repository.insert(&notification).await.expect("stored");
    if read {
        repository
            .change_status(
                UserId::from_uuid(user),
                notification.id(),
                StatusChange::Read,
                now(),
            )
            .await
            .expect("read");
    }
    id.to_string()
}

fn rand_bytes() -> [u8; 10] {
    let random = Uuid::new_v4();
    let mut bytes = [0; 10];
    bytes.copy_from_slice(&random.as_bytes()[..10]);
    bytes
}

/// `GET /api/v1/changes?after_seq=n`'s body.
/// A database of the test's own: a pass deletes every user's old
/// notifications, so another test's must not be in it.
async fn fresh_database(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => fresh_sqlite_url(),
        Backend::Postgres => fresh_postgres_database().await,
    }
}

/// A second connection to the server's database, to store what the API
/// cannot (notifications of days ago).
struct SideDoor {
    storage: storage::Storage,
    tasks: BackgroundTasks,
}

impl SideDoor {
    async fn close(self) {
        self.tasks.shutdown().await;
        self.storage.close().await;
    }
}

/// A server on a [`fresh_database`], and a side door to it.
async fn spawn_alone(backend: Backend) -> (TestApp, SideDoor) {
    let database = fresh_database(backend).await;
    let app = spawn_app_with(&database, &[]).await;
    let tasks = BackgroundTasks::new();
    let url = DatabaseUrl::parse(&database).unwrap();
    let storage = storage::connect(&url, &tasks).await.unwrap();
    (app, SideDoor { storage, tasks })
}

async fn changes_after(app: &TestApp, token: &str, after: u64) -> Value {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/changes?after_seq={after}"),
            Some(token),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn old_notifications_go_as_ordinary_deletes_and_new_ones_stay(backend: Backend) {
    let (app, side) = spawn_alone(backend).await;
    let repository = side.storage.repository();
    let (user, token) = app.new_user();
    let (other, other_token) = app.new_user();

    let old_unread = store_old(&*repository, user, 3 * DAY, false).await;
    let old_read = store_old(&*repository, user, 2 * DAY, true).await;
    let older_unread = store_old(&*repository, user, 5 * DAY, false).await;
    let others_old = store_old(&*repository, other, 4 * DAY, false).await;
    let recent = store_old(&*repository, user, DAY / 2, false).await;
    let new = app.create_for(user, "new").await;
    assert_eq!(app.unread_count(&token).await, 4);
    let before = changes_after(&app, &token, 0).await["seq"]
        .as_u64()
        .unwrap();
    let mut live = app.ws(&token).await;

    let deleted = prune_once(&app.service, DAY, Duration::ZERO, || false)
        .await
        .expect("the pass succeeds");
    assert_eq!(deleted, 4, "three of the user's, one of the other's");

    // Pushed: one `delete` update per deleted notification of the user, with
    // consecutive seqs and the count right after each.
    let mut pushed = BTreeSet::new();
    let mut seqs = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..3 {
        let update = live.expect("notification_update").await;
        assert_eq!(update["update_type"], "delete", "{update}");
        pushed.insert(update["notification_id"].as_str().unwrap().to_owned());
        seqs.push(update["seq"].as_u64().unwrap());
        counts.push(update["unread_count"].as_u64().unwrap());
    }
    let expected: BTreeSet<String> = [&old_unread, &old_read, &older_unread]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(pushed, expected);
    seqs.sort_unstable();
    assert_eq!(seqs, vec![before + 1, before + 2, before + 3]);
    assert_eq!(counts.iter().min(), Some(&2), "two unread left: {counts:?}");

    // Stored: the old ones are gone, the recent and the new one stay, and
    // the counters are exact.
    for id in [&old_unread, &old_read, &older_unread] {
        assert_eq!(app.get(&token, id).await.0, 404, "{id} deleted");
    }
    assert_eq!(app.get(&token, &recent).await.0, 200);
    assert_eq!(
        app.get(&token, new["notification_id"].as_str().unwrap())
            .await
            .0,
        200
    );
    assert_eq!(app.unread_count(&token).await, 2);
    assert_eq!(app.get(&other_token, &others_old).await.0, 404);
    assert_eq!(app.unread_count(&other_token).await, 0);

    // Logged: each delete is in the changes feed with its seq.
    let feed = changes_after(&app, &token, before).await;
    let changes = feed["changes"].as_array().unwrap();
    let logged: BTreeSet<String> = changes
        .iter()
        .inspect(|change| assert_eq!(change["update_type"], "delete", "{change}"))
        .map(|change| change["notification_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(logged, expected);
    assert_eq!(feed["seq"].as_u64(), Some(before + 3));

    side.close().await;
}

/// A step deletes at most its limit, the oldest first; the next takes the rest.
async fn each_step_is_bounded_and_takes_the_oldest_first(backend: Backend) {
    let (app, side) = spawn_alone(backend).await;
    let repository = side.storage.repository();
    let (user, token) = app.new_user();
    let oldest = store_old(&*repository, user, 400 * DAY, false).await;
    let second = store_old(&*repository, user, 399 * DAY, false).await;
    let third = store_old(&*repository, user, 398 * DAY, false).await;

    let cutoff = now() - 397 * DAY;
    assert_eq!(app.service.delete_expired(cutoff, 2).await.unwrap(), 2);
    assert_eq!(app.get(&token, &oldest).await.0, 404);
    assert_eq!(app.get(&token, &second).await.0, 404);
    assert_eq!(
        app.get(&token, &third).await.0,
        200,
        "beyond the step's limit"
    );
    assert_eq!(app.service.delete_expired(cutoff, 2).await.unwrap(), 1);
    assert_eq!(app.service.delete_expired(cutoff, 2).await.unwrap(), 0);
    assert_eq!(app.unread_count(&token).await, 0);

    side.close().await;
}

/// A user with more expired notifications than the socket can queue at
/// once: the pass's pacing keeps the socket open and every `delete` arrives.
async fn many_expired_notifications_of_one_user_reach_the_socket_without_1013(backend: Backend) {
    let (app, side) = spawn_alone(backend).await;
    let repository = side.storage.repository();
    let (user, token) = app.new_user();
    let count = 300; // beyond the default WS_SEND_BUFFER (256)
    let mut stored = BTreeSet::new();
    for _ in 0..count {
        stored.insert(store_old(&*repository, user, 2 * DAY, false).await);
    }
    let mut live = app.ws(&token).await;

    let deleted = prune_once(&app.service, DAY, RETENTION_PAUSE, || false)
        .await
        .unwrap();

    assert_eq!(deleted, count);
    let mut pushed = BTreeSet::new();
    for _ in 0..count {
        let update = live.expect("notification_update").await;
        pushed.insert(update["notification_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        pushed, stored,
        "every delete arrived, the socket stayed open"
    );
    assert_eq!(app.unread_count(&token).await, 0);
    side.close().await;
}

/// With `NOTIFICATION_RETENTION` set, a server's own task deletes what had
/// expired before it started (its first pass runs at start).
async fn a_server_with_a_retention_deletes_expired_notifications_by_itself(backend: Backend) {
    let database = fresh_database(backend).await;
    let tasks = BackgroundTasks::new();
    let url = DatabaseUrl::parse(&database).unwrap();
    let storage = storage::connect(&url, &tasks).await.unwrap();
    let user = Uuid::new_v4();
    let old = store_old(&*storage.repository(), user, 3 * DAY, false).await;
    let recent = store_old(&*storage.repository(), user, DAY / 2, false).await;

    let app = spawn_app_with(&database, &["--notification-retention", "1d"]).await;
    let token = app.user_token(user);
    // The pass runs beside the requests: wait for its one change.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.get(&token, &old).await.0 != 404 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not deleted within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.get(&token, &recent).await.0, 200);
    assert_eq!(app.unread_count(&token).await, 1);
    tasks.shutdown().await;
    storage.close().await;
}

on_both_backends!(
    a_server_with_a_retention_deletes_expired_notifications_by_itself,
    many_expired_notifications_of_one_user_reach_the_socket_without_1013,
    old_notifications_go_as_ordinary_deletes_and_new_ones_stay,
    each_step_is_bounded_and_takes_the_oldest_first,
);
