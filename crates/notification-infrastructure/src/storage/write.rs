//! [`Write`]: every change the repository makes, as one value the writer
//! queue carries, and [`Written`], what each one answers.
//!
//! Every write of the port becomes one of these and goes through the one
//! writer (`group_commit`), which writes a batch of them in one transaction
//! (`write_batch`). Nothing writes to the database any other way.

use notification_domain::{
    IdempotencyClaim, IdempotentBatchInsert, IdempotentInsert, InboxPosition, Notification,
    NotificationId, ReadAllOutcome, RepositoryError, StatusChange, StatusChangeOutcome, UserId,
};
use time::OffsetDateTime;

/// One change to the database.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    Create(Notification),
    CreateIdempotent {
        notification: Notification,
        claim: IdempotencyClaim,
        expired_before: OffsetDateTime,
    },
    /// A batch create: one write, however many notifications, so it is
    /// stored all or nothing (the writer's row-by-row fallback re-runs it
    /// whole, never item by item).
    CreateBatch {
        notifications: Vec<Notification>,
        /// The key that stands for the whole list, and the time before
        /// which its record has expired.
        claim: Option<(IdempotencyClaim, OffsetDateTime)>,
    },
    ChangeStatus {
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
        at: OffsetDateTime,
    },
    Delete {
        user_id: UserId,
        id: NotificationId,
        at: OffsetDateTime,
    },
    ReadAll {
        user_id: UserId,
        read_at: OffsetDateTime,
    },
    PurgeKeys {
        older_than: OffsetDateTime,
        limit: u32,
    },
    /// Forgets the oldest log rows of changes made before `older_than`.
    PurgeChanges {
        older_than: OffsetDateTime,
        limit: u32,
    },
    /// Rewrites up to `limit` rows that the user's latest read-all covers
    /// as stored READ (see `read_watermark`): no seq, no log row, nothing
    /// any reader sees change.
    MaterializeReadAll {
        user_id: UserId,
        limit: u32,
    },
}

impl Write {
    /// The users whose counters the write changes (and locks first).
    pub(crate) fn users(&self) -> impl Iterator<Item = UserId> + '_ {
        let (one, many): (Option<UserId>, &[Notification]) = match self {
            Self::Create(notification) | Self::CreateIdempotent { notification, .. } => {
                (Some(notification.user_id()), &[])
            }
            Self::CreateBatch { notifications, .. } => (None, notifications),
            Self::ChangeStatus { user_id, .. }
            | Self::Delete { user_id, .. }
            | Self::ReadAll { user_id, .. }
            | Self::MaterializeReadAll { user_id, .. } => (Some(*user_id), &[]),
            Self::PurgeKeys { .. } | Self::PurgeChanges { .. } => (None, &[]),
        };
        one.into_iter()
            .chain(many.iter().map(Notification::user_id))
    }
}

/// What one [`Write`] answers, after its batch committed.
#[derive(Debug)]
pub(crate) enum Written {
    /// The create's position (its seq, the unread count right after it).
    Created(InboxPosition),
    CreatedIdempotent(IdempotentInsert),
    /// A batch's positions in its order (always `Inserted` without a key).
    CreatedBatch(IdempotentBatchInsert),
    /// `None`: no such notification.
    StatusChanged(Option<StatusChangeOutcome>),
    /// The delete's position; `None`: no such notification.
    Deleted(Option<InboxPosition>),
    ReadAll(ReadAllOutcome),
    /// How many keys (or log rows) were forgotten.
    Purged(u64),
    /// How many rows a read-all's materialization rewrote.
    Materialized(u64),
}

/// The answer of another kind of write than the one asked for: a writer bug.
pub(crate) fn mismatched(written: &Written) -> RepositoryError {
    RepositoryError::Corrupt(format!("the writer answered {written:?} to another write"))
}
