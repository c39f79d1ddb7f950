//! [`NotificationService`]: the use cases.

use std::sync::Arc;

use futures_util::future::join_all;
use notification_domain::{
    now, ChangesAfter, DomainEvent, EventPublisher, IdempotencyClaim, IdempotentBatchInsert,
    IdempotentInsert, InboxPosition, ListQuery, Notification, NotificationChange,
    NotificationCreated, NotificationDraft, NotificationId, NotificationRepository,
    NotificationUpdated, RepositoryError, RequestFingerprint, StatusChange, UserId,
    IDEMPOTENCY_KEY_TTL, MAX_CHANGES_PER_READ,
};
use time::OffsetDateTime;

use crate::error::{ReadinessError, ServiceError};
use crate::idempotency::Idempotency;
use crate::outcome::{BatchOutcome, CreateOutcome};
use crate::page::{Page, PageRequest, MAX_PAGE_SIZE};

/// Creates, reads and changes notifications; publishes a domain event after
/// every stored change.
#[derive(Clone)]
pub struct NotificationService {
    repository: Arc<dyn NotificationRepository>,
    publisher: Arc<dyn EventPublisher>,
}

impl NotificationService {
    pub fn new(
        repository: Arc<dyn NotificationRepository>,
        publisher: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            repository,
            publisher,
        }
    }

    /// Stores a new notification for `draft.user_id`, then publishes
    /// [`NotificationCreated`]. The notification is durable when this returns.
    ///
    /// Without `idempotency` every call creates ([`CreateOutcome::Created`]).
    /// With it, the first call creates; a repeat by the same publisher with
    /// the same key and the same request within [`IDEMPOTENCY_KEY_TTL`]
    /// returns the notification as first created and stores and publishes
    /// nothing ([`CreateOutcome::Replayed`]), also when the two calls race:
    /// the repository lets exactly one of them store. The same key with a
    /// different request is [`ServiceError::IdempotencyKeyReused`]. "The same
    /// request" means the same [`RequestFingerprint`] of the validated draft.
    #[tracing::instrument(skip_all, fields(user_id = %draft.user_id, idempotent = idempotency.is_some()))]
    pub async fn create(
        &self,
        draft: NotificationDraft,
        idempotency: Option<Idempotency>,
    ) -> Result<CreateOutcome, ServiceError> {
        let Some(Idempotency { publisher, key }) = idempotency else {
            let notification = Notification::new(draft, NotificationId::new(), now());
            let position = self.repository.insert(&notification).await?;
            self.announce_created(&notification, position).await;
            return Ok(CreateOutcome::Created(notification));
        };
        let claim = IdempotencyClaim {
            publisher,
            key,
            fingerprint: RequestFingerprint::of(&draft),
        };
        let notification = Notification::new(draft, NotificationId::new(), now());
        let expired_before = notification.created_at() - IDEMPOTENCY_KEY_TTL;
        match self
            .repository
            .insert_idempotent(&notification, &claim, expired_before)
            .await?
        {
            IdempotentInsert::Inserted { position } => {
                self.announce_created(&notification, position).await;
                Ok(CreateOutcome::Created(notification))
            }
            IdempotentInsert::AlreadyUsed(record) if record.is_repeat_of(&claim.fingerprint) => {
                metrics::counter!("idempotent_replays_total").increment(1);
                tracing::debug!(notification_id = %record.notification.id(), "idempotent replay");
                Ok(CreateOutcome::Replayed(record.notification))
            }
            IdempotentInsert::AlreadyUsed(_) => Err(ServiceError::IdempotencyKeyReused),
        }
    }

    /// Stores a batch of new notifications in one transaction, all or
    /// nothing, then publishes a [`NotificationCreated`] for each, in the
    /// batch's order (several of one user carry consecutive seqs in that
    /// order). Every notification of a batch has the same `created_at`.
    ///
    /// Idempotency works as for [`Self::create`], with the key standing for
    /// the whole batch: a repeat (the same drafts in the same order, see
    /// [`RequestFingerprint::of_batch`]) answers the list as first created
    /// ([`BatchOutcome::Replayed`]); the key with another batch, or a key a
    /// single create used, is [`ServiceError::IdempotencyKeyReused`].
    /// The caller bounds the batch's size (the REST API: 1–1000); an empty
    /// batch stores nothing and records no key.
    #[tracing::instrument(skip_all, fields(items = drafts.len(), idempotent = idempotency.is_some()))]
    pub async fn create_batch(
        &self,
        drafts: Vec<NotificationDraft>,
        idempotency: Option<Idempotency>,
    ) -> Result<BatchOutcome, ServiceError> {
        if drafts.is_empty() {
            return Ok(BatchOutcome::Created(Vec::new()));
        }
        let fingerprint = idempotency
            .as_ref()
            .map(|_| RequestFingerprint::of_batch(&drafts));
        let created_at = now();
        let notifications: Vec<Notification> = drafts
            .into_iter()
            .map(|draft| Notification::new(draft, NotificationId::new(), created_at))
            .collect();
        let (Some(Idempotency { publisher, key }), Some(fingerprint)) = (idempotency, fingerprint)
        else {
            let positions = self.repository.insert_batch(&notifications).await?;
            self.announce_batch(&notifications, positions).await?;
            return Ok(BatchOutcome::Created(notifications));
        };
        let claim = IdempotencyClaim {
            publisher,
            key,
            fingerprint,
        };
        let expired_before = created_at - IDEMPOTENCY_KEY_TTL;
        match self
            .repository
            .insert_batch_idempotent(&notifications, &claim, expired_before)
            .await?
        {
            IdempotentBatchInsert::Inserted { positions } => {
                self.announce_batch(&notifications, positions).await?;
                Ok(BatchOutcome::Created(notifications))
            }
            IdempotentBatchInsert::AlreadyUsed(record) if record.is_repeat_of(&fingerprint) => {
                metrics::counter!("idempotent_replays_total").increment(1);
                tracing::debug!(
                    items = record.notifications.len(),
                    "idempotent batch replay"
                );
                Ok(BatchOutcome::Replayed(record.notifications))
            }
            IdempotentBatchInsert::AlreadyUsed(_) => Err(ServiceError::IdempotencyKeyReused),
        }
    }

    /// The user's notification `id`.
    pub async fn get(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Notification, ServiceError> {
        self.repository
            .get(user_id, id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// One page of the user's notifications, newest first, with the user's
    /// latest seq as of the same snapshot.
    pub async fn list(&self, user_id: UserId, request: PageRequest) -> Result<Page, ServiceError> {
        let limit = request.limit.clamp(1, MAX_PAGE_SIZE);
        // One extra row tells whether another page follows.
        let query = ListQuery {
            filter: request.filter,
            before: request.cursor,
            limit: limit + 1,
        };
        let (mut items, seq) = self.repository.list(user_id, query).await?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(Notification::id)
        } else {
            None
        };
        Ok(Page {
            items,
            next_cursor,
            seq,
        })
    }

    /// How many of the user's notifications are unread, and the number of
    /// the user's latest change (read together).
    pub async fn unread_count(&self, user_id: UserId) -> Result<InboxPosition, ServiceError> {
        Ok(self.repository.unread_count(user_id).await?)
    }

    /// The user's changes after `after_seq`, oldest first, at most `limit`
    /// (clamped to 1..=[`MAX_CHANGES_PER_READ`]), each the very event that
    /// was published for it; or [`ChangesAfter::Gone`] when they are no
    /// longer kept or `after_seq` is beyond the latest.
    pub async fn changes(
        &self,
        user_id: UserId,
        after_seq: u64,
        limit: u32,
    ) -> Result<ChangesAfter, ServiceError> {
        let limit = limit.clamp(1, MAX_CHANGES_PER_READ);
        Ok(self
            .repository
            .changes_after(user_id, after_seq, limit)
            .await?)
    }

    /// The seq at which the user's notification `id` was created, while the
    /// change log keeps that create (also after a delete); `None` otherwise.
    pub async fn creation_seq(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<u64>, ServiceError> {
        Ok(self.repository.creation_seq(user_id, id).await?)
    }

    /// The latest positions of many users at once; users left out have had
    /// no change (seq 0).
    pub async fn latest_seqs(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, InboxPosition)>, ServiceError> {
        Ok(self.repository.latest_seqs(users).await?)
    }

    /// UNREAD → READ. A repeat returns the notification unchanged and publishes nothing.
    pub async fn mark_read(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Notification, ServiceError> {
        self.change_status(user_id, id, StatusChange::Read).await
    }

    /// READ or ARCHIVED → UNREAD.
    pub async fn mark_unread(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Notification, ServiceError> {
        self.change_status(user_id, id, StatusChange::Unread).await
    }

    /// UNREAD or READ → ARCHIVED.
    pub async fn archive(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Notification, ServiceError> {
        self.change_status(user_id, id, StatusChange::Archive).await
    }

    /// Marks every unread notification of the user read; returns how many.
    /// Publishes one `read_all` event when at least one changed.
    #[tracing::instrument(skip(self))]
    pub async fn read_all(&self, user_id: UserId) -> Result<u64, ServiceError> {
        let read_at = now();
        let outcome = self.repository.mark_all_read(user_id, read_at).await?;
        if outcome.updated > 0 {
            self.publish(NotificationUpdated {
                user_id,
                notification_id: None,
                change: NotificationChange::AllRead {
                    read_at,
                    updated: outcome.updated,
                },
                unread_count: outcome.unread_count,
                seq: outcome.seq,
                occurred_at: read_at,
            })
            .await;
        }
        Ok(outcome.updated)
    }

    /// Deletes the user's notification, then publishes a `delete` update.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, user_id: UserId, id: NotificationId) -> Result<(), ServiceError> {
        let at = now();
        let position = self
            .repository
            .delete(user_id, id, at)
            .await?
            .ok_or(ServiceError::NotFound)?;
        self.publish(deleted(user_id, id, position, at)).await;
        Ok(())
    }

    /// Deletes up to `limit` notifications created before `created_before`,
    /// the oldest first, each an ordinary delete of its user (a `seq`, a
    /// change-log row, the counter kept exact) published as a `delete`
    /// update; returns how many went (retention, contract §9).
    ///
    /// The deletes are submitted together, so the writer commits them in as
    /// few transactions as its batches allow instead of one each. One deleted
    /// meanwhile by its user is skipped (the user's delete was the change).
    #[tracing::instrument(skip(self))]
    pub async fn delete_expired(
        &self,
        created_before: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, ServiceError> {
        let expired = self
            .repository
            .expired_notifications(created_before, limit)
            .await?;
        let at = now();
        let deletes = expired.into_iter().map(|(user_id, id)| async move {
            let position = self.repository.delete(user_id, id, at).await?;
            Ok::<_, ServiceError>(position.map(|position| deleted(user_id, id, position, at)))
        });
        let mut deleted = 0;
        let mut failure = None;
        // Every stored delete is published, even when another of the chunk failed.
        for outcome in join_all(deletes).await {
            match outcome {
                Ok(Some(update)) => {
                    deleted += 1;
                    self.publish(update).await;
                }
                Ok(None) => {}
                Err(error) => failure = Some(error),
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(deleted),
        }
    }

    /// Whether storage and the event bus both answer (readiness probe).
    pub async fn check_ready(&self) -> Result<(), ReadinessError> {
        self.repository
            .ping()
            .await
            .map_err(ReadinessError::Storage)?;
        self.publisher
            .ping()
            .await
            .map_err(ReadinessError::EventBus)?;
        Ok(())
    }

    /// Applies `change` in storage (one write, serialized with the user's
    /// others) and publishes the update when it changed anything.
    #[tracing::instrument(skip(self))]
    async fn change_status(
        &self,
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
    ) -> Result<Notification, ServiceError> {
        let at = now();
        let outcome = self
            .repository
            .change_status(user_id, id, change, at)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if outcome.changed {
            self.publish(NotificationUpdated {
                user_id,
                notification_id: Some(id),
                change: notification_change(change, &outcome.notification, at),
                unread_count: outcome.unread_count,
                seq: outcome.seq,
                occurred_at: at,
            })
            .await;
        }
        Ok(outcome.notification)
    }

    /// Counts and publishes a stored new notification.
    ///
    /// The event's time is the notification's `created_at`: the change log
    /// keeps that time, so the event rebuilt from the log is this one.
    async fn announce_created(&self, notification: &Notification, position: InboxPosition) {
        metrics::counter!("notifications_created_total").increment(1);
        tracing::debug!(notification_id = %notification.id(), "notification stored");
        self.publish(NotificationCreated {
            notification: notification.clone(),
            unread_count: position.unread_count,
            seq: position.seq,
            occurred_at: notification.created_at(),
        })
        .await;
    }

    /// Counts and publishes each notification of a stored batch, in order.
    async fn announce_batch(
        &self,
        notifications: &[Notification],
        positions: Vec<InboxPosition>,
    ) -> Result<(), ServiceError> {
        if positions.len() != notifications.len() {
            // Stored, but the answer cannot be matched to the items: the
            // connections still get every change from the log by its seq.
            return Err(ServiceError::Internal(RepositoryError::Corrupt(format!(
                "a batch of {} notifications returned {} positions",
                notifications.len(),
                positions.len()
            ))));
        }
        for (notification, position) in notifications.iter().zip(positions) {
            self.announce_created(notification, position).await;
        }
        Ok(())
    }

    /// Publishes after a change is stored. A failure here loses no data (the
    /// change is durable and in the change log, where connections find it
    /// by its seq), so it is logged and counted rather than turned into an
    /// error for the caller.
    async fn publish(&self, event: impl Into<DomainEvent>) {
        let event = event.into();
        let user_id = event.user_id();
        if let Err(error) = self.publisher.publish(event).await {
            metrics::counter!("event_publish_failures_total").increment(1);
            tracing::error!(%user_id, error = %error, "domain event not published");
        }
    }
}

/// The `delete` update of a notification deleted at `at`, at `position`.
fn deleted(
    user_id: UserId,
    id: NotificationId,
    position: InboxPosition,
    at: OffsetDateTime,
) -> NotificationUpdated {
    NotificationUpdated {
        user_id,
        notification_id: Some(id),
        change: NotificationChange::Deleted,
        unread_count: position.unread_count,
        seq: position.seq,
        occurred_at: at,
    }
}

/// The event's account of `change`, with the times it stored.
fn notification_change(
    change: StatusChange,
    stored: &Notification,
    at: OffsetDateTime,
) -> NotificationChange {
    // A changed notification carries the time its change set (`at`, to the
    // microsecond); `at` itself stands in should a stored row lack it.
    match change {
        StatusChange::Read => NotificationChange::Read {
            read_at: stored.read_at().unwrap_or(at),
        },
        StatusChange::Unread => NotificationChange::Unread,
        StatusChange::Archive => NotificationChange::Archived {
            archived_at: stored.archived_at().unwrap_or(at),
        },
    }
}
