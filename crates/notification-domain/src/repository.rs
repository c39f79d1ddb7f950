//! The storage port.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::RepositoryError;
use crate::idempotency::{IdempotencyClaim, IdempotentInsert};
use crate::ids::{NotificationId, UserId};
use crate::notification::{Notification, NotificationStatus};
use crate::status_change::StatusChange;

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
}

/// Where notifications are kept.
///
/// Every query is scoped to one user: a notification of another user is
/// simply not found. Methods that change data return the user's unread count
/// right after the change, kept by the repository in the same transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// Stores a new notification; returns the user's unread count afterwards.
    async fn insert(&self, notification: &Notification) -> Result<u64, RepositoryError>;

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

    /// Up to `query.limit` notifications, newest first.
    async fn list(
        &self,
        user_id: UserId,
        query: ListQuery,
    ) -> Result<Vec<Notification>, RepositoryError>;

    /// How many of the user's notifications are UNREAD.
    async fn unread_count(&self, user_id: UserId) -> Result<u64, RepositoryError>;

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

    /// Deletes the user's notification. Returns the unread count afterwards, or
    /// `None` when there was no such notification.
    async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<u64>, RepositoryError>;

    /// Up to `limit` of the user's notifications created after `after`, oldest
    /// first (used to replay what a reconnecting client missed).
    async fn list_after(
        &self,
        user_id: UserId,
        after: NotificationId,
        limit: u32,
    ) -> Result<Vec<Notification>, RepositoryError>;

    /// Answers when the database does (readiness).
    async fn ping(&self) -> Result<(), RepositoryError>;
}
