//! The storage port.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::RepositoryError;
use crate::idempotency::{IdempotencyClaim, IdempotentBatchInsert, IdempotentInsert};
use crate::ids::{NotificationId, UserId};
use crate::notification::{Notification, NotificationStatus};
use crate::status_change::StatusChange;
use crate::sync::{ChangesAfter, InboxPosition};

/// Which notifications a listing includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// UNREAD and READ: the inbox, without archived notifications.
    #[default]
    Inbox,
    /// Only notifications with this status.
    Only(NotificationStatus),
}

/// One page of a user's notifications, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: StatusFilter,
    /// Keyset cursor: only notifications strictly older than this id.
    pub before: Option<NotificationId>,
    pub limit: u32,
}

/// The result of marking all of a user's notifications read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAllOutcome {
    /// How many notifications went from UNREAD to READ.
    pub updated: u64,
    /// The user's unread count afterwards (0 unless one was created meanwhile).
    pub unread_count: u64,
    /// The read-all's number in the user's change sequence when `updated > 0`
    /// (one number for the whole read-all), else the user's latest.
    pub seq: u64,
}

/// The result of a status change of a notification that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChangeOutcome {
    /// The notification as stored afterwards.
    pub notification: Notification,
    /// Whether the change changed anything (a repeat does not, and is not
    /// written).
    pub changed: bool,
    /// The user's unread count afterwards.
    pub unread_count: u64,
    /// The change's number in the user's change sequence when `changed`,
    /// else the user's latest (a repeat takes no number).
    pub seq: u64,
}

/// Where notifications are kept.
///
/// Every query is scoped to one user: a notification of another user is
/// simply not found. Methods that change data return the user's unread count
/// right after the change, kept by the repository in the same transaction.
///
/// Every change also takes the user's next number of the change sequence
/// (contract §7), assigned in the change's own transaction, and is written to
/// the change log with everything needed to rebuild its [`DomainEvent`]
/// exactly: the event's `occurred_at` is the time the caller passes in
/// (`created_at` of a new notification, `at` / `read_at` of a change).
///
/// [`DomainEvent`]: crate::DomainEvent
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// Stores a new notification; returns the create's position (its seq and
    /// the user's unread count afterwards).
    async fn insert(&self, notification: &Notification) -> Result<InboxPosition, RepositoryError>;

    /// Stores a new notification under an idempotency key, unless the
    /// publisher already used the key.
    ///
    /// In one transaction: a record of `claim` that is older than
    /// `expired_before` is forgotten (an expired key is as good as new); then
    /// the key is recorded at `notification.created_at()` with a snapshot of
    /// `notification`, and the notification is inserted. If the publisher's
    /// key is already recorded (also by a concurrent call: exactly one of them
    /// wins), nothing is stored and the recorded [`IdempotencyRecord`]
    /// comes back instead, whatever its fingerprint; the caller compares.
    ///
    /// [`IdempotencyRecord`]: crate::IdempotencyRecord
    async fn insert_idempotent(
        &self,
        notification: &Notification,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentInsert, RepositoryError>;

    /// Stores every notification of a batch in one transaction, all or
    /// nothing, however many there are; returns each create's position in
    /// the batch's order (several of one user take consecutive seqs in that
    /// order).
    async fn insert_batch(
        &self,
        notifications: &[Notification],
    ) -> Result<Vec<InboxPosition>, RepositoryError>;

    /// [`Self::insert_batch`] under an idempotency key, like
    /// [`Self::insert_idempotent`]: the key is recorded with the whole list
    /// (the key stands for the batch), in the batch's transaction. If the
    /// publisher's key is already recorded (by a batch or a single create,
    /// also concurrently: exactly one wins), nothing is stored and the
    /// record comes back.
    async fn insert_batch_idempotent(
        &self,
        notifications: &[Notification],
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentBatchInsert, RepositoryError>;

    /// Forgets up to `limit` idempotency keys recorded before `older_than`
    /// (the oldest first); returns how many. Never touches notifications.
    /// Callers purge in chunks, calling again while a chunk comes back full,
    /// so that no single statement holds the database for long.
    async fn purge_idempotency_keys(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError>;

    /// The user's notification with this id, if any.
    async fn get(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<Notification>, RepositoryError>;

    /// Up to `query.limit` notifications, newest first, and the user's latest
    /// seq, read in the same snapshot.
    async fn list(
        &self,
        user_id: UserId,
        query: ListQuery,
    ) -> Result<(Vec<Notification>, u64), RepositoryError>;

    /// How many of the user's notifications are UNREAD, and the user's latest
    /// seq, read in the same snapshot.
    async fn unread_count(&self, user_id: UserId) -> Result<InboxPosition, RepositoryError>;

    /// Applies `change` at `at` to the user's notification, in one write
    /// serialized with every other write of that user (so it can never be
    /// lost to a concurrent one). Returns `None` when there is no such
    /// notification.
    async fn change_status(
        &self,
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
        at: OffsetDateTime,
    ) -> Result<Option<StatusChangeOutcome>, RepositoryError>;

    /// Marks every UNREAD notification of the user READ at `read_at`.
    async fn mark_all_read(
        &self,
        user_id: UserId,
        read_at: OffsetDateTime,
    ) -> Result<ReadAllOutcome, RepositoryError>;

    /// Deletes the user's notification at `at`. Returns the delete's position,
    /// or `None` when there was no such notification.
    async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
        at: OffsetDateTime,
    ) -> Result<Option<InboxPosition>, RepositoryError>;

    /// The user's changes after `after`, in seq order, at most `limit`
    /// (1..=[`MAX_CHANGES_PER_READ`]), and the user's position now, read in
    /// one snapshot. [`ChangesAfter::Gone`] when the change right after
    /// `after` is no longer kept or `after` is beyond the latest seq;
    /// `after` equal to the latest is an empty [`ChangesAfter::Kept`],
    /// however old.
    ///
    /// [`MAX_CHANGES_PER_READ`]: crate::MAX_CHANGES_PER_READ
    async fn changes_after(
        &self,
        user_id: UserId,
        after: u64,
        limit: u32,
    ) -> Result<ChangesAfter, RepositoryError>;

    /// The seq at which the user's notification `id` was created, while the
    /// log still holds that create (also after the notification was deleted).
    /// `None` for an id never this user's, created before the change log
    /// existed, or pruned from the log.
    async fn creation_seq(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<u64>, RepositoryError>;

    /// The positions of many users in one query. Users without any change
    /// may be left out (their seq is 0).
    async fn latest_seqs(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, InboxPosition)>, RepositoryError>;

    /// Forgets up to `limit` changes of the log made before `older_than`
    /// (the oldest first); returns how many. Called in chunks, like
    /// [`Self::purge_idempotency_keys`].
    async fn purge_changes(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError>;

    /// Up to `limit` of the notifications created before `created_before`,
    /// of every user, the oldest first (retention, contract §9). Read only:
    /// the caller deletes each with [`Self::delete`], an ordinary change.
    async fn expired_notifications(
        &self,
        created_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(UserId, NotificationId)>, RepositoryError>;

    /// Answers when the database does (readiness).
    async fn ping(&self) -> Result<(), RepositoryError>;
}
