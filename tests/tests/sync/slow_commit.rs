//! A create held back longer than the old 5 s resume margin before its commit
//! (a slowed repository wrapping the real one) still reaches a client that
//! resumed in between: its `seq` is taken at the commit, so it comes after
//! everything the client had, whenever its id was taken.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notification_api::startup::Interceptors;
use notification_domain::{
    ChangesAfter, IdempotencyClaim, IdempotentBatchInsert, IdempotentInsert, InboxPosition,
    ListQuery, Notification, NotificationId, NotificationRepository, ReadAllOutcome,
    RepositoryError, StatusChange, StatusChangeOutcome, UserId,
};
use notification_e2e::{on_both_backends, spawn_app_intercepted, Backend, TEST_SECRET};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::support::{changes_until, connect, id_of};

/// Longer than the margin the old `since` replay went back (5 s).
const HELD_FOR: Duration = Duration::from_millis(5_500);

/// The real repository, except that an insert titled "held…" waits until
/// `release` before it runs (its id and timestamp were taken before).
struct HoldingRepository {
    inner: Arc<dyn NotificationRepository>,
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

#[async_trait]
impl NotificationRepository for HoldingRepository {
    async fn insert(&self, notification: &Notification) -> Result<InboxPosition, RepositoryError> {
        if notification.title().starts_with("held") {
            self.entered.notify_one();
            self.release.notified().await;
        }
        self.inner.insert(notification).await
    }

    async fn insert_idempotent(
        &self,
        notification: &Notification,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentInsert, RepositoryError> {
        self.inner
            .insert_idempotent(notification, claim, expired_before)
            .await
    }

    async fn insert_batch(
        &self,
        notifications: &[Notification],
    ) -> Result<Vec<InboxPosition>, RepositoryError> {
        self.inner.insert_batch(notifications).await
    }

    async fn insert_batch_idempotent(
        &self,
        notifications: &[Notification],
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentBatchInsert, RepositoryError> {
        self.inner
            .insert_batch_idempotent(notifications, claim, expired_before)
            .await
    }

    async fn purge_idempotency_keys(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.inner.purge_idempotency_keys(older_than, limit).await
    }

    async fn get(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<Notification>, RepositoryError> {
        self.inner.get(user_id, id).await
    }

    async fn list(
        &self,
        user_id: UserId,
        query: ListQuery,
    ) -> Result<(Vec<Notification>, u64), RepositoryError> {
        self.inner.list(user_id, query).await
    }

    async fn unread_count(&self, user_id: UserId) -> Result<InboxPosition, RepositoryError> {
        self.inner.unread_count(user_id).await
    }

    async fn change_status(
        &self,
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
        at: OffsetDateTime,
    ) -> Result<Option<StatusChangeOutcome>, RepositoryError> {
        self.inner.change_status(user_id, id, change, at).await
    }

    async fn mark_all_read(
        &self,
        user_id: UserId,
        read_at: OffsetDateTime,
    ) -> Result<ReadAllOutcome, RepositoryError> {
        self.inner.mark_all_read(user_id, read_at).await
    }

    async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
        at: OffsetDateTime,
    ) -> Result<Option<InboxPosition>, RepositoryError> {
        self.inner.delete(user_id, id, at).await
    }

    async fn changes_after(
        &self,
        user_id: UserId,
        after: u64,
        limit: u32,
    ) -> Result<ChangesAfter, RepositoryError> {
        self.inner.changes_after(user_id, after, limit).await
    }

    async fn creation_seq(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<u64>, RepositoryError> {
        self.inner.creation_seq(user_id, id).await
    }

    async fn latest_seqs(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, InboxPosition)>, RepositoryError> {
        self.inner.latest_seqs(users).await
    }

    async fn purge_changes(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.inner.purge_changes(older_than, limit).await
    }

    async fn expired_notifications(
        &self,
        created_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(UserId, NotificationId)>, RepositoryError> {
        self.inner
            .expired_notifications(created_before, limit)
            .await
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.inner.ping().await
    }
}

async fn a_create_held_back_before_its_commit_reaches_a_client_that_resumed_meanwhile(
    backend: Backend,
) {
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let interceptors = Interceptors {
        repository: Some(Box::new({
            let (entered, release) = (Arc::clone(&entered), Arc::clone(&release));
            move |inner| {
                Arc::new(HoldingRepository {
                    inner,
                    entered,
                    release,
                })
            }
        })),
        ..Interceptors::default()
    };
    let database = backend.database_url().await;
    let app = spawn_app_intercepted(&database, &["--jwt-secret", TEST_SECRET], interceptors).await;
    let (user, token) = app.new_user();

    // The held create has its id and timestamp; its commit waits.
    let held = tokio::spawn({
        let (base_url, publisher) = (app.base_url.clone(), app.publisher_token());
        async move {
            reqwest::Client::new()
                .post(format!("{base_url}/api/v1/notifications"))
                .bearer_auth(publisher)
                .json(&serde_json::json!({"user_id": user, "title": "held", "message": "m"}))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    });
    entered.notified().await;
    // Time passes (the point of the test: an id older than any margin).
    tokio::time::sleep(HELD_FOR).await;
    let newer = app
        .create_for(user, "created while the other was held")
        .await;

    // A client that saw `newer` resumes from it, by id and by seq.
    let mut by_id = app.ws_since(&token, &id_of(&newer)).await;
    let mut by_seq = connect(&app, &token, Some("since_seq=1")).await;
    release.notify_one();
    let held = held.await.unwrap();
    for socket in [&mut by_id, &mut by_seq] {
        let changes = changes_until(socket, 1, 2).await;
        assert_eq!(changes[0]["data"], held, "live, after the resume");
    }

    // And one that resumes from `newer` after the commit gets it replayed.
    let mut later = app.ws_since(&token, &id_of(&newer)).await;
    let replayed = changes_until(&mut later, 1, 2).await;
    assert_eq!(replayed[0]["data"], held);
}

on_both_backends!(a_create_held_back_before_its_commit_reaches_a_client_that_resumed_meanwhile);
