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
//!    status) or from the counter itself (a read-all reads every unread one),
//!    so each caller's count is computed here, exactly as if the writes had
//!    run one by one. New notifications
//!    are gathered and inserted with one statement per run of them.
//!    Every change also takes its user's next number of the change sequence
//!    (contract §7) from the same counter: several changes of one user get
//!    consecutive numbers in batch order, a repeat that changes nothing takes
//!    none. Each change's log row is queued with its number.
//!    A read-all touches no notification row: it moves the user's read
//!    watermark (`read_watermark`) to its own seq, kept with the counter;
//!    every row read from then on is judged by the watermark as of the
//!    writes run so far (the counter rows are written only in step 3).
//! 3. The new notifications, the log rows and the counters that changed are
//!    written together ([`BatchStatements::write_rows`]; before a status
//!    change or delete, the notifications and rows queued so far are
//!    written first, since that statement may touch them).
//!
//! Idempotency keys repeated inside one batch are resolved here: the first
//! claims the key, the others get its record, as they would a moment later.
//! A batch create ([`Write::CreateBatch`]) is one write among the others: its
//! key (one row standing for the whole list) is claimed first, then all its
//! notifications are queued like single creates, in its order.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use notification_domain::{
    BatchIdempotencyRecord, IdempotencyClaim, IdempotencyRecord, IdempotentBatchInsert,
    IdempotentInsert, InboxPosition, Notification, NotificationId, ReadAllOutcome, RepositoryError,
    StatusChange, StatusChangeOutcome, UserId,
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::change_log::{ChangeKind, ChangeRow};
use super::idempotency_row::batch_items;
use super::read_watermark::ReadWatermark;
use super::row::NotificationRow;
use super::sql_repository::{unread_count_value, unread_delta, unread_weight};
use super::write::{Write, Written};

/// How often an idempotent create claims its key again when the record it
/// collided with was gone by the time it was read.
const MAX_CLAIM_ATTEMPTS: usize = 3;

/// A user's counter row: the unread count, the number of the latest change
/// and the read watermark (see `read_watermark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct CounterRow {
    pub(crate) user_id: Uuid,
    pub(crate) unread_count: i64,
    pub(crate) seq: i64,
    /// The seq of the latest read-all (0: none).
    pub(crate) read_all_seq: i64,
    pub(crate) read_all_at: Option<OffsetDateTime>,
    /// Whether rows the latest read-all covers may still be stored UNREAD.
    pub(crate) read_all_pending: bool,
}

/// A new notification and the seq of its create (its `changed_seq`).
pub(crate) type NewRow<'a> = (&'a Notification, i64);

/// The statements whose SQL differs between the databases: those that take
/// a whole batch at once.
#[async_trait]
pub(crate) trait BatchStatements: Send {
    /// Takes the counter rows of `users` (ascending, each once) for the rest
    /// of the transaction; returns those that exist.
    async fn lock_counters(&mut self, users: &[Uuid]) -> Result<Vec<CounterRow>, RepositoryError>;

    /// Writes, in this order: the new notifications, the change log's rows
    /// (a create's content copied from its notification row, which is in
    /// `new` of this call), and the counters (ascending users). Any of the
    /// three may be empty. On PostgreSQL this is one statement, so a batch of
    /// creates costs one round trip between taking the counters and the
    /// commit.
    async fn write_rows(
        &mut self,
        new: &[NewRow<'_>],
        changes: &[ChangeRow],
        counters: &[CounterRow],
    ) -> Result<(), RepositoryError>;

    /// Forgets up to `limit` log rows of changes made before `older_than`,
    /// the oldest first; returns how many.
    async fn purge_changes(
        &mut self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError>;
}

/// The statements written once for both databases (see `sql_statements`).
#[async_trait]
pub(crate) trait RowStatements: Send {
    async fn forget_expired_key(
        &mut self,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<(), RepositoryError>;
    /// Records the key with a snapshot of `notification` (a batch's first)
    /// and, for a batch, `batch_items` (the whole list, see
    /// `idempotency_row::batch_items`); false when the publisher already has
    /// it.
    async fn claim_key(
        &mut self,
        notification: &Notification,
        batch_items: Option<&Value>,
        claim: &IdempotencyClaim,
    ) -> Result<bool, RepositoryError>;
    /// The key's record, in the general form of a list (a single create's
    /// key lists its one notification).
    async fn get_key(
        &mut self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<BatchIdempotencyRecord>, RepositoryError>;
    /// The row as stored (the caller applies the watermark).
    async fn get_notification(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<NotificationRow>, RepositoryError>;
    /// Stores the status and times of `notification`, which exists, as
    /// changed by the change of seq `changed_seq`.
    async fn store_status(
        &mut self,
        notification: &Notification,
        changed_seq: i64,
    ) -> Result<(), RepositoryError>;
    /// Deletes the notification; returns the status and `changed_seq` it
    /// had as stored, if it existed.
    async fn delete(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<(String, Option<i64>)>, RepositoryError>;
    /// Rewrites up to `limit` of the user's rows that `watermark` covers
    /// and that are stored UNREAD as stored READ at its time; returns how
    /// many.
    async fn materialize_read_all(
        &mut self,
        user_id: UserId,
        watermark: &ReadWatermark,
        limit: u32,
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
        .flat_map(Write::users)
        .map(UserId::into_uuid)
        .collect();
    let users: Vec<Uuid> = users.into_iter().collect();
    // A user without a counter row has a count of 0 and no change yet.
    let mut before: HashMap<Uuid, Counter> = users
        .iter()
        .map(|user| (*user, Counter::default()))
        .collect();
    if !users.is_empty() {
        before.extend(
            tx.lock_counters(&users)
                .await?
                .into_iter()
                .map(|row| (row.user_id, Counter::from(row))),
        );
    }
    let mut run = Run {
        counters: before.clone(),
        new: Vec::new(),
        changes: Vec::new(),
        claimed: HashMap::new(),
    };
    let mut answers = Vec::with_capacity(batch.len());
    for write in batch {
        answers.push(run.write(tx, write).await?);
    }
    // Only the counters that changed (a repeat changes none).
    let changed: Vec<CounterRow> = users
        .iter()
        .filter_map(|user| {
            let counter = run.counters.get(user).copied().unwrap_or_default();
            (before.get(user) != Some(&counter)).then_some(counter.row(*user))
        })
        .collect();
    run.flush(tx, &changed).await?;
    Ok(answers)
}

/// A user's counter as the batch runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counter {
    unread_count: i64,
    /// The number of the user's latest change.
    seq: i64,
    /// The latest read-all.
    read_all: ReadWatermark,
    /// Whether rows it covers may still be stored UNREAD.
    pending: bool,
}

impl From<CounterRow> for Counter {
    fn from(row: CounterRow) -> Self {
        Self {
            unread_count: row.unread_count,
            seq: row.seq,
            read_all: ReadWatermark::of(Some(row.read_all_seq), row.read_all_at),
            pending: row.read_all_pending,
        }
    }
}

impl Counter {
    fn row(self, user_id: Uuid) -> CounterRow {
        CounterRow {
            user_id,
            unread_count: self.unread_count,
            seq: self.seq,
            read_all_seq: self.read_all.seq,
            read_all_at: self.read_all.at,
            read_all_pending: self.pending,
        }
    }
}

/// The state of a batch as it runs.
struct Run<'b> {
    /// Every user's counter as of the writes run so far.
    counters: HashMap<Uuid, Counter>,
    /// New notifications not inserted yet (inserted together).
    new: Vec<NewRow<'b>>,
    /// Log rows not written yet (written with the notifications).
    changes: Vec<ChangeRow>,
    /// The record of each idempotency key the batch has met, as a list
    /// (a single create's key lists its one notification).
    claimed: HashMap<(UserId, String), BatchIdempotencyRecord>,
}

impl<'b> Run<'b> {
    async fn write<T>(&mut self, tx: &mut T, write: &'b Write) -> Result<Written, RepositoryError>
    where
        T: BatchStatements + RowStatements,
    {
        match write {
            Write::Create(notification) => Ok(Written::Created(self.add_new(notification)?)),
            Write::CreateIdempotent {
                notification,
                claim,
                expired_before,
            } => self
                .create_idempotent(tx, notification, claim, *expired_before)
                .await
                .map(Written::CreatedIdempotent),
            Write::CreateBatch {
                notifications,
                claim,
            } => self
                .create_batch(tx, notifications, claim.as_ref())
                .await
                .map(Written::CreatedBatch),
            Write::ChangeStatus {
                user_id,
                id,
                change,
                at,
            } => {
                self.flush(tx, &[]).await?;
                let Some(stored) = tx.get_notification(*user_id, *id).await? else {
                    return Ok(Written::StatusChanged(None));
                };
                // As the user sees it: read by a read-all it is older than
                // (a mark-read of it is then a repeat).
                let mut notification =
                    stored.into_notification(&self.counter(*user_id).read_all)?;
                let before = notification.status();
                let changed = change.apply_to(&mut notification, *at);
                let position = if changed {
                    let changed_at = match change {
                        StatusChange::Read => notification.read_at(),
                        StatusChange::Archive => notification.archived_at(),
                        StatusChange::Unread => None,
                    };
                    let delta = unread_delta(before, notification.status());
                    let row = self.change(*user_id, delta, ChangeKind::from(*change), *at);
                    // The whole row, with this change's seq: from now on no
                    // earlier read-all covers it.
                    tx.store_status(&notification, row.seq).await?;
                    self.record(row.of(*id).at(changed_at))?
                } else {
                    // A repeat takes no number.
                    self.latest(*user_id)?
                };
                Ok(Written::StatusChanged(Some(StatusChangeOutcome {
                    notification,
                    changed,
                    unread_count: position.unread_count,
                    seq: position.seq,
                })))
            }
            Write::Delete { user_id, id, at } => {
                self.flush(tx, &[]).await?;
                let Some((status, changed_seq)) = tx.delete(*user_id, *id).await? else {
                    return Ok(Written::Deleted(None));
                };
                let was_unread = self
                    .counter(*user_id)
                    .read_all
                    .is_unread(&status, changed_seq);
                let row = self.change(*user_id, -i64::from(was_unread), ChangeKind::Delete, *at);
                Ok(Written::Deleted(Some(self.record(row.of(*id))?)))
            }
            Write::ReadAll { user_id, read_at } => {
                let counter = self.counter(*user_id);
                // Every unread notification, as the counter keeps them.
                let updated = counter.unread_count;
                let position = if updated > 0 {
                    if counter.pending {
                        // Rows an earlier read-all covers and the
                        // materializer has not reached yet keep that
                        // read-all's read_at: write them before the
                        // watermark moves (all of them, in this change's
                        // transaction, with the rows this batch queued).
                        self.flush(tx, &[]).await?;
                        tx.materialize_read_all(*user_id, &counter.read_all, u32::MAX)
                            .await?;
                    }
                    let row = self.change(*user_id, -updated, ChangeKind::ReadAll, *read_at);
                    let counter = self.counters.entry(user_id.into_uuid()).or_default();
                    counter.read_all = ReadWatermark {
                        seq: row.seq,
                        at: Some(*read_at),
                    };
                    counter.pending = true;
                    // One change, one number, one counter row, however many
                    // notifications it read.
                    self.record(row.at(Some(*read_at)).updated(updated))?
                } else {
                    self.latest(*user_id)?
                };
                Ok(Written::ReadAll(ReadAllOutcome {
                    updated: unread_count_value(updated)?,
                    unread_count: position.unread_count,
                    seq: position.seq,
                }))
            }
            Write::MaterializeReadAll { user_id, limit } => {
                let counter = self.counter(*user_id);
                if !counter.pending {
                    return Ok(Written::Materialized(0));
                }
                // Rows this batch queued before a read-all of it are
                // covered too: insert them first, or the chunk would miss
                // them and clear `pending` while they are stored UNREAD.
                self.flush(tx, &[]).await?;
                let rewritten = tx
                    .materialize_read_all(*user_id, &counter.read_all, *limit)
                    .await?;
                if rewritten < u64::from(*limit) {
                    // None left: every row it covers is stored READ now.
                    if let Some(counter) = self.counters.get_mut(&user_id.into_uuid()) {
                        counter.pending = false;
                    }
                }
                Ok(Written::Materialized(rewritten))
            }
            Write::PurgeKeys { older_than, limit } => {
                Ok(Written::Purged(tx.purge_keys(*older_than, *limit).await?))
            }
            Write::PurgeChanges { older_than, limit } => Ok(Written::Purged(
                tx.purge_changes(*older_than, *limit).await?,
            )),
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
        let list = std::slice::from_ref(notification);
        match self.claim(tx, list, None, claim, expired_before).await? {
            None => Ok(IdempotentInsert::Inserted {
                position: self.add_new(notification)?,
            }),
            Some(record) => Ok(IdempotentInsert::AlreadyUsed(single_record(record)?)),
        }
    }

    /// Queues every notification of a batch, under its key if it has one
    /// (or finds who has the key, and queues nothing).
    async fn create_batch<T>(
        &mut self,
        tx: &mut T,
        notifications: &'b [Notification],
        claim: Option<&(IdempotencyClaim, OffsetDateTime)>,
    ) -> Result<IdempotentBatchInsert, RepositoryError>
    where
        T: BatchStatements + RowStatements,
    {
        if let Some((claim, expired_before)) = claim {
            let items = batch_items(notifications)?;
            let record = self
                .claim(tx, notifications, Some(&items), claim, *expired_before)
                .await?;
            if let Some(record) = record {
                return Ok(IdempotentBatchInsert::AlreadyUsed(record));
            }
        }
        let positions = notifications
            .iter()
            .map(|notification| self.add_new(notification))
            .collect::<Result<_, _>>()?;
        Ok(IdempotentBatchInsert::Inserted { positions })
    }

    /// Claims the key for `notifications` (the first in the key row, the
    /// whole list as `items` for a batch); `None` when claimed, else the
    /// record of whoever has it.
    async fn claim<T>(
        &mut self,
        tx: &mut T,
        notifications: &[Notification],
        items: Option<&Value>,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<Option<BatchIdempotencyRecord>, RepositoryError>
    where
        T: BatchStatements + RowStatements,
    {
        let key = (claim.publisher, claim.key.as_str().to_owned());
        if let Some(record) = self.claimed.get(&key) {
            // Claimed (or found taken) earlier in this batch.
            return Ok(Some(record.clone()));
        }
        let Some(first) = notifications.first() else {
            return Err(RepositoryError::Corrupt(
                "a batch create of no notification".into(),
            ));
        };
        tx.forget_expired_key(claim, expired_before).await?;
        for _ in 0..MAX_CLAIM_ATTEMPTS {
            // The key row before the notifications: a PostgreSQL transaction
            // of another node that claims the same key waits on it.
            if tx.claim_key(first, items, claim).await? {
                let record = BatchIdempotencyRecord {
                    fingerprint: claim.fingerprint,
                    notifications: notifications.to_vec(),
                };
                self.claimed.insert(key, record);
                return Ok(None);
            }
            // Taken by a transaction that has committed: a new statement
            // sees its row (PostgreSQL's READ COMMITTED).
            if let Some(record) = tx.get_key(claim).await? {
                self.claimed.insert(key, record.clone());
                return Ok(Some(record));
            }
            // Purged between the two statements: the key is free, claim again.
        }
        Err(RepositoryError::Unavailable(
            "idempotency key kept changing while it was claimed".into(),
        ))
    }

    /// Queues a new notification and its create; returns its position.
    fn add_new(
        &mut self,
        notification: &'b Notification,
    ) -> Result<InboxPosition, RepositoryError> {
        let row = self.change(
            notification.user_id(),
            unread_weight(notification.status()),
            ChangeKind::Created,
            notification.created_at(),
        );
        self.new.push((notification, row.seq));
        self.record(row.of(notification.id()))
    }

    /// Applies a change to the user's counter: `delta` to the count and the
    /// next number; returns the change's log row (to complete and record).
    fn change(
        &mut self,
        user_id: UserId,
        delta: i64,
        kind: ChangeKind,
        occurred_at: OffsetDateTime,
    ) -> ChangeRow {
        let user = user_id.into_uuid();
        let counter = self.counters.entry(user).or_default();
        counter.unread_count += delta;
        counter.seq += 1;
        ChangeRow::new(user, kind, (counter.seq, counter.unread_count), occurred_at)
    }

    /// Queues the change's log row; returns its position.
    fn record(&mut self, row: ChangeRow) -> Result<InboxPosition, RepositoryError> {
        let position = position_of(row.seq, row.unread_count)?;
        self.changes.push(row);
        Ok(position)
    }

    /// The user's counter as of the writes run so far.
    fn counter(&self, user_id: UserId) -> Counter {
        self.counters
            .get(&user_id.into_uuid())
            .copied()
            .unwrap_or_default()
    }

    /// The user's position as of the writes run so far.
    fn latest(&self, user_id: UserId) -> Result<InboxPosition, RepositoryError> {
        let counter = self.counter(user_id);
        position_of(counter.seq, counter.unread_count)
    }

    /// Writes the queued notifications and log rows (before a statement that
    /// might read or change them), and `counters` (at the end of the batch).
    async fn flush<T: BatchStatements>(
        &mut self,
        tx: &mut T,
        counters: &[CounterRow],
    ) -> Result<(), RepositoryError> {
        if !self.new.is_empty() || !self.changes.is_empty() || !counters.is_empty() {
            tx.write_rows(&self.new, &self.changes, counters).await?;
            self.new.clear();
            self.changes.clear();
        }
        Ok(())
    }
}

/// A key's record as a single create sees it: the first notification of the
/// list (a batch's key has the batch's fingerprint, which no single create
/// has, so the caller refuses it as reused).
fn single_record(record: BatchIdempotencyRecord) -> Result<IdempotencyRecord, RepositoryError> {
    let notification = record.notifications.into_iter().next().ok_or_else(|| {
        RepositoryError::Corrupt("an idempotency record of no notification".into())
    })?;
    Ok(IdempotencyRecord {
        fingerprint: record.fingerprint,
        notification,
    })
}

/// A stored seq and count as the port's [`InboxPosition`].
pub(crate) fn position_of(seq: i64, unread_count: i64) -> Result<InboxPosition, RepositoryError> {
    Ok(InboxPosition {
        seq: u64::try_from(seq)
            .map_err(|_| RepositoryError::Corrupt(format!("negative seq {seq}")))?,
        unread_count: unread_count_value(unread_count)?,
    })
}
