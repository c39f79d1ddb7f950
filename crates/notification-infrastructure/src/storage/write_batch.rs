//! One batch of [`Write`]s in one transaction, the same on both databases.
//!
//! The order inside the transaction is what keeps every user's unread count
//! exact and what lets writes of many users run beside each other without
//! deadlocks:
//!
//! 1. The counter rows of every user the batch touches are taken first, in
//!    ascending user order ([`BatchStatements::lock_counters`]), and their
//!    counts read. From then on no other transaction changes those users.
//! 2. The writes run in batch order. Each one's effect on its user's count is
//!    known from what its statement changed (an insert, a row's old and new
//!    status, the rows a read-all changed), so each caller's count is computed
//!    here, exactly as if the writes had run one by one. New notifications
//!    are gathered and inserted with one statement per run of them.
//! 3. The counts that changed are written, one statement for the whole batch.
//!
//! Idempotency keys repeated inside one batch are resolved here: the first
//! claims the key, the others get its record, as they would a moment later.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use notification_domain::{
    IdempotencyClaim, IdempotencyRecord, IdempotentInsert, InboxPosition, Notification,
    NotificationId, NotificationStatus, ReadAllOutcome, RepositoryError, StatusChangeOutcome,
    UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::sql_repository::{unread_count_value, unread_delta, unread_weight};
use super::write::{Write, Written};

/// How often an idempotent create claims its key again when the record it
/// collided with was gone by the time it was read.
const MAX_CLAIM_ATTEMPTS: usize = 3;

/// The statements whose SQL differs between the databases: those that take
/// a whole batch at once.
#[async_trait]
pub(crate) trait BatchStatements: Send {
    /// Takes the counter rows of `users` (ascending, each once) for the rest
    /// of the transaction; returns the counts of those that have one.
    async fn lock_counters(&mut self, users: &[Uuid]) -> Result<Vec<(Uuid, i64)>, RepositoryError>;

    /// Inserts new notifications (their counters are [`Self::set_counters`]'
    /// job).
    async fn insert_notifications(
        &mut self,
        batch: &[&Notification],
    ) -> Result<(), RepositoryError>;

    /// Sets each user's counter to its count (ascending users).
    async fn set_counters(&mut self, counts: &[(Uuid, i64)]) -> Result<(), RepositoryError>;
}

/// The statements written once for both databases (see `sql_statements`).
#[async_trait]
pub(crate) trait RowStatements: Send {
    async fn forget_expired_key(
        &mut self,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<(), RepositoryError>;
    /// Records the key with a snapshot of `notification`; false when the
    /// publisher already has it.
    async fn claim_key(
        &mut self,
        notification: &Notification,
        claim: &IdempotencyClaim,
    ) -> Result<bool, RepositoryError>;
    async fn get_key(
        &mut self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<IdempotencyRecord>, RepositoryError>;
    async fn get_notification(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<Notification>, RepositoryError>;
    /// Stores the status and times of `notification`, which exists.
    async fn store_status(&mut self, notification: &Notification) -> Result<(), RepositoryError>;
    /// Deletes the notification; returns the status it had, if it existed.
    async fn delete(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<String>, RepositoryError>;
    /// Marks the user's UNREAD notifications READ; returns how many.
    async fn mark_all_read(
        &mut self,
        user_id: UserId,
        read_at: OffsetDateTime,
    ) -> Result<u64, RepositoryError>;
    async fn purge_keys(
        &mut self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError>;
}

/// Runs `batch` inside the open transaction `tx`; returns each write's
/// answer in batch order. The caller commits.
pub(crate) async fn apply<T>(tx: &mut T, batch: &[Write]) -> Result<Vec<Written>, RepositoryError>
where
    T: BatchStatements + RowStatements,
{
    let users: BTreeSet<Uuid> = batch
        .iter()
        .filter_map(Write::user)
        .map(UserId::into_uuid)
        .collect();
    let users: Vec<Uuid> = users.into_iter().collect();
    // A user without a counter row has a count of 0.
    let mut before: HashMap<Uuid, i64> = users.iter().map(|user| (*user, 0)).collect();
    if !users.is_empty() {
        before.extend(tx.lock_counters(&users).await?);
    }
    let mut run = Run {
        counts: before.clone(),
        new: Vec::new(),
        claimed: HashMap::new(),
    };
    let mut answers = Vec::with_capacity(batch.len());
    for write in batch {
        answers.push(run.write(tx, write).await?);
    }
    run.flush(tx).await?;
    // Only the counts that changed (a repeated status change changes none).
    let changed: Vec<(Uuid, i64)> = users
        .iter()
        .filter_map(|user| {
            let count = run.counts.get(user).copied().unwrap_or(0);
            (before.get(user) != Some(&count)).then_some((*user, count))
        })
        .collect();
    if !changed.is_empty() {
        tx.set_counters(&changed).await?;
    }
    Ok(answers)
}

/// The state of a batch as it runs.
struct Run<'b> {
    /// Every user's unread count as of the writes run so far.
    counts: HashMap<Uuid, i64>,
    /// New notifications not inserted yet (inserted together).
    new: Vec<&'b Notification>,
    /// The record of each idempotency key the batch has met.
    claimed: HashMap<(UserId, String), IdempotencyRecord>,
}

impl<'b> Run<'b> {
    async fn write<T>(&mut self, tx: &mut T, write: &'b Write) -> Result<Written, RepositoryError>
    where
        T: BatchStatements + RowStatements,
    {
        match write {
            Write::Create(notification) => Ok(Written::Created(InboxPosition {
                seq: 0,
                unread_count: self.add_new(notification)?,
            })),
            Write::CreateIdempotent {
                notification,
                claim,
                expired_before,
            } => self
                .create_idempotent(tx, notification, claim, *expired_before)
                .await
                .map(Written::CreatedIdempotent),
            Write::ChangeStatus {
                user_id,
                id,
                change,
                at,
            } => {
                self.flush(tx).await?;
                let Some(mut notification) = tx.get_notification(*user_id, *id).await? else {
                    return Ok(Written::StatusChanged(None));
                };
                let before = notification.status();
                let changed = change.apply_to(&mut notification, *at);
                if changed {
                    tx.store_status(&notification).await?;
                }
                let unread_count = self.add(
                    user_id.into_uuid(),
                    unread_delta(before, notification.status()),
                )?;
                Ok(Written::StatusChanged(Some(StatusChangeOutcome {
                    notification,
                    changed,
                    unread_count,
                    seq: 0,
                })))
            }
            Write::Delete { user_id, id, .. } => {
                self.flush(tx).await?;
                let Some(status) = tx.delete(*user_id, *id).await? else {
                    return Ok(Written::Deleted(None));
                };
                let was_unread = status == NotificationStatus::Unread.as_str();
                Ok(Written::Deleted(Some(InboxPosition {
                    seq: 0,
                    unread_count: self.add(user_id.into_uuid(), -i64::from(was_unread))?,
                })))
            }
            Write::ReadAll { user_id, read_at } => {
                self.flush(tx).await?;
                let updated = tx.mark_all_read(*user_id, *read_at).await?;
                let delta =
                    i64::try_from(updated).map_err(|e| RepositoryError::Other(Box::new(e)))?;
                let unread_count = self.add(user_id.into_uuid(), -delta)?;
                Ok(Written::ReadAll(ReadAllOutcome {
                    updated,
                    unread_count,
                    seq: 0,
                }))
            }
            Write::PurgeKeys { older_than, limit } => {
                Ok(Written::Purged(tx.purge_keys(*older_than, *limit).await?))
            }
        }
    }

    /// Claims the key (or finds who has it) and queues the notification.
    async fn create_idempotent<T>(
        &mut self,
        tx: &mut T,
        notification: &'b Notification,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentInsert, RepositoryError>
    where
        T: BatchStatements + RowStatements,
    {
        let key = (claim.publisher, claim.key.as_str().to_owned());
        if let Some(record) = self.claimed.get(&key) {
            // Claimed (or found taken) earlier in this batch.
            return Ok(IdempotentInsert::AlreadyUsed(record.clone()));
        }
        tx.forget_expired_key(claim, expired_before).await?;
        for _ in 0..MAX_CLAIM_ATTEMPTS {
            // The key row before the notification: a PostgreSQL transaction
            // of another node that claims the same key waits on it.
            if tx.claim_key(notification, claim).await? {
                let record = IdempotencyRecord {
                    fingerprint: claim.fingerprint,
                    notification: notification.clone(),
                };
                self.claimed.insert(key, record);
                let unread_count = self.add_new(notification)?;
                return Ok(IdempotentInsert::Inserted {
                    position: InboxPosition {
                        seq: 0,
                        unread_count,
                    },
                });
            }
            // Taken by a transaction that has committed: a new statement
            // sees its row (PostgreSQL's READ COMMITTED).
            if let Some(record) = tx.get_key(claim).await? {
                self.claimed.insert(key, record.clone());
                return Ok(IdempotentInsert::AlreadyUsed(record));
            }
            // Purged between the two statements: the key is free, claim again.
        }
        Err(RepositoryError::Unavailable(
            "idempotency key kept changing while it was claimed".into(),
        ))
    }

    /// Queues a new notification; returns its user's count right after it.
    fn add_new(&mut self, notification: &'b Notification) -> Result<u64, RepositoryError> {
        self.new.push(notification);
        self.add(
            notification.user_id().into_uuid(),
            unread_weight(notification.status()),
        )
    }

    /// Inserts the queued new notifications, before a statement that might
    /// read or change them.
    async fn flush<T: BatchStatements>(&mut self, tx: &mut T) -> Result<(), RepositoryError> {
        if !self.new.is_empty() {
            tx.insert_notifications(&self.new).await?;
            self.new.clear();
        }
        Ok(())
    }

    /// Adds `delta` to the user's count; returns the count afterwards.
    fn add(&mut self, user: Uuid, delta: i64) -> Result<u64, RepositoryError> {
        let count = self.counts.entry(user).or_insert(0);
        *count += delta;
        unread_count_value(*count)
    }
}
