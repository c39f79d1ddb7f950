//! The port's writes as [`Write`]s through the queue, each answered with its
//! own type: the one implementation both repositories call.

use notification_domain::{
    IdempotencyClaim, IdempotentBatchInsert, IdempotentInsert, InboxPosition, Notification,
    NotificationId, ReadAllOutcome, RepositoryError, StatusChange, StatusChangeOutcome, UserId,
};
use time::OffsetDateTime;

use super::group_commit::GroupCommit;
use super::write::{mismatched, Write, Written};

impl GroupCommit {
    pub(crate) async fn insert(
        &self,
        notification: &Notification,
    ) -> Result<InboxPosition, RepositoryError> {
        match self.submit(Write::Create(notification.clone())).await? {
            Written::Created(count) => Ok(count),
            other => Err(mismatched(&other)),
        }
    }

    pub(crate) async fn insert_idempotent(
        &self,
        notification: &Notification,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentInsert, RepositoryError> {
        let write = Write::CreateIdempotent {
            notification: notification.clone(),
            claim: claim.clone(),
            expired_before,
        };
        match self.submit(write).await? {
            Written::CreatedIdempotent(outcome) => Ok(outcome),
            other => Err(mismatched(&other)),
        }
    }

    /// A batch create, one [`Write`] (so one transaction), with or without
    /// a key.
    pub(crate) async fn insert_batch(
        &self,
        notifications: &[Notification],
        claim: Option<(IdempotencyClaim, OffsetDateTime)>,
    ) -> Result<IdempotentBatchInsert, RepositoryError> {
        if notifications.is_empty() {
            // Nothing to store; no key recorded for nothing.
            return Ok(IdempotentBatchInsert::Inserted {
                positions: Vec::new(),
            });
        }
        let write = Write::CreateBatch {
            notifications: notifications.to_vec(),
            claim,
        };
        match self.submit(write).await? {
            Written::CreatedBatch(outcome) => Ok(outcome),
            other => Err(mismatched(&other)),
        }
    }

    pub(crate) async fn change_status(
        &self,
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
        at: OffsetDateTime,
    ) -> Result<Option<StatusChangeOutcome>, RepositoryError> {
        let write = Write::ChangeStatus {
            user_id,
            id,
            change,
            at,
        };
        match self.submit(write).await? {
            Written::StatusChanged(outcome) => Ok(outcome),
            other => Err(mismatched(&other)),
        }
    }

    pub(crate) async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
        at: OffsetDateTime,
    ) -> Result<Option<InboxPosition>, RepositoryError> {
        match self.submit(Write::Delete { user_id, id, at }).await? {
            Written::Deleted(count) => Ok(count),
            other => Err(mismatched(&other)),
        }
    }

    pub(crate) async fn mark_all_read(
        &self,
        user_id: UserId,
        read_at: OffsetDateTime,
    ) -> Result<ReadAllOutcome, RepositoryError> {
        match self.submit(Write::ReadAll { user_id, read_at }).await? {
            Written::ReadAll(outcome) => Ok(outcome),
            other => Err(mismatched(&other)),
        }
    }

    pub(crate) async fn purge_idempotency_keys(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        match self.submit(Write::PurgeKeys { older_than, limit }).await? {
            Written::Purged(purged) => Ok(purged),
            other => Err(mismatched(&other)),
        }
    }

    pub(crate) async fn purge_changes(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        match self
            .submit(Write::PurgeChanges { older_than, limit })
            .await?
        {
            Written::Purged(purged) => Ok(purged),
            other => Err(mismatched(&other)),
        }
    }

    /// One chunk of the materialization of the user's latest read-all;
    /// returns how many rows it rewrote (fewer than `limit`: it is done).
    pub(crate) async fn materialize_read_all(
        &self,
        user_id: UserId,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        match self
            .submit(Write::MaterializeReadAll { user_id, limit })
            .await?
        {
            Written::Materialized(rows) => Ok(rows),
            other => Err(mismatched(&other)),
        }
    }
}
