//! A crash between store and push (issue "Never lose a notification"): the
//! process committed a notification and died before publishing its event, so
//! no socket was ever told. A connected socket gets it at the user's next
//! change (read from the change log); a client that resumes with `since`
//! gets it replayed.
//!
//! The crash is reproduced exactly where it matters: the notification is
//! inserted through the real repository on the server's own database, and no
//! event is published, as if the process had died right after the commit.

use notification_domain::{now, Notification, NotificationDraft, NotificationId, UserId};
use notification_e2e::{on_both_backends, spawn_app, Backend};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::storage::{self, DatabaseUrl};
use uuid::Uuid;

/// Stores a notification for `user` the way `NotificationService::create`
/// does, and stops where a crash would: after the commit, before the publish.
async fn store_without_publishing(database_url: &str, user: Uuid, title: &str) -> String {
    let url = DatabaseUrl::parse(database_url).expect("the server's database URL");
    let tasks = BackgroundTasks::new();
    let storage = storage::connect(&url, &tasks)
        .await
        .expect("the server's database");
    let repository = storage.repository();
    let draft = NotificationDraft::parse(
        UserId::from_uuid(user),
        title,
        "stored, then the process died",
        None,
        None,
    )
    .expect("a valid draft");
    let notification = Notification::new(draft, NotificationId::new(), now());
    repository
        .insert(&notification)
        .await
        .expect("the insert commits");
    // Its checkpointer stops with its tasks, before the pools close.
    tasks.shutdown().await;
    storage.close().await;
    notification.id().to_string()
}

async fn a_notification_stored_but_never_pushed_reaches_a_client_resuming_with_since(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let seen = app.create_for(user, "seen before the crash").await;
    let mut live = app.ws(&token).await;

    let orphan = store_without_publishing(&app.database_url, user, "never pushed").await;
    let after = app.create_for(user, "created after the crash").await;

    let (status, stored) = app.get(&token, &orphan).await;
    assert_eq!(status, 200, "the orphan is stored: {stored}");
    // It was never pushed, but the next change reveals the gap: the live
    // socket gets it from the change log first, then the next one.
    let healed = live.expect("notification").await;
    assert_eq!(
        (&healed["data"], healed["seq"].as_u64()),
        (&stored, Some(2))
    );
    assert_eq!(live.expect("notification").await["data"], after);

    let mut resumed = app
        .ws_since(&token, seen["notification_id"].as_str().unwrap())
        .await;
    let replayed = resumed.expect("notification").await;
    assert_eq!(replayed["data"], stored, "the orphan comes first");
    assert_eq!(replayed["unread_count"], 2, "as right after it was stored");
    assert_eq!(resumed.expect("notification").await["data"], after);
}

on_both_backends!(a_notification_stored_but_never_pushed_reaches_a_client_resuming_with_since);
