//! [`SqlRepository`]: the `NotificationRepository` port on either database,
//! written once as generic code over sqlx's `Database`.
//!
//! Reads run on the reader pool; every write goes through the writer queue
//! (`group_commit`), which the database's own module sets up with its batch
//! writer.

use std::sync::Arc;

use async_trait::async_trait;
use notification_domain::{
    ChangesAfter, IdempotencyClaim, IdempotentBatchInsert, IdempotentInsert, InboxPosition,
    ListQuery, Notification, NotificationId, NotificationRepository, ReadAllOutcome,
    RepositoryError, StatusChange, StatusChangeOutcome, UserId, MAX_CHANGES_PER_READ,
};
use sqlx::database::Database;
use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::change_log::ChangeLogRow;
use super::error::repository_error;
use super::group_commit::GroupCommit;
use super::read_all_materializer::ReadAllSignal;
use super::read_watermark::ReadWatermark;
use super::row::{into_notifications, NotificationRow, WatermarkedRow};
use super::sql_repository as sql;
use super::write_batch::position_of;

/// The port on one database: the reads' pool and the writes' queue.
pub struct SqlRepository<DB: Database> {
    reader: Pool<DB>,
    writes: GroupCommit,
    dialect: ReadDialect,
    /// Told of each read-all that read something (the materializer waits on it).
    read_alls: ReadAllSignal,
}

/// The read statements each database words its own way.
pub(crate) struct ReadDialect {
    /// The database's form of [`sql::LIST_INBOX`].
    pub(crate) list_inbox: &'static str,
    /// Begins a read-only transaction that sees one snapshot.
    pub(crate) begin_snapshot: &'static str,
    /// `(user_id, seq, unread_count)` of the users of a JSON array.
    pub(crate) latest_seqs: &'static str,
}

impl<DB: Database> SqlRepository<DB> {
    pub(crate) fn new(reader: Pool<DB>, writes: GroupCommit, dialect: ReadDialect) -> Self {
        Self {
            reader,
            writes,
            dialect,
            read_alls: ReadAllSignal::default(),
        }
    }

    /// How many writes wait for a batch (see `WriteLimits`).
    pub(crate) fn queued_writes(&self) -> usize {
        self.writes.queued_writes()
    }

    pub(crate) fn reader(&self) -> &Pool<DB> {
        &self.reader
    }

    pub(crate) fn writes(&self) -> &GroupCommit {
        &self.writes
    }

    pub(crate) fn read_alls(&self) -> ReadAllSignal {
        Arc::clone(&self.read_alls)
    }
}

/// The user's position now (no counter row: no change yet).
async fn position<'c, DB, E>(executor: E, user_id: UserId) -> Result<InboxPosition, RepositoryError>
where
    DB: Database,
    E: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Uuid: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'r> Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let row: Option<(i64, i64)> = sqlx::query_as(sql::GET_POSITION)
        .bind(user_id.into_uuid())
        .fetch_optional(executor)
        .await
        .map_err(repository_error)?;
    let (seq, count) = row.unwrap_or((0, 0));
    position_of(seq, count)
}

#[async_trait]
impl<DB> NotificationRepository for SqlRepository<DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Uuid: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB>,
    String: Type<DB>,
    NotificationRow: for<'r> FromRow<'r, DB::Row>,
    WatermarkedRow: for<'r> FromRow<'r, DB::Row>,
    (i64, i64, Option<OffsetDateTime>, bool): for<'r> FromRow<'r, DB::Row>,
    ChangeLogRow: for<'r> FromRow<'r, DB::Row>,
    (i64, i64): for<'r> FromRow<'r, DB::Row>,
    (Uuid, i64, i64): for<'r> FromRow<'r, DB::Row>,
    (Uuid, Uuid): for<'r> FromRow<'r, DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn insert(&self, notification: &Notification) -> Result<InboxPosition, RepositoryError> {
        self.writes.insert(notification).await
    }

    async fn insert_idempotent(
        &self,
        notification: &Notification,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentInsert, RepositoryError> {
        self.writes
            .insert_idempotent(notification, claim, expired_before)
            .await
    }

    async fn insert_batch(
        &self,
        notifications: &[Notification],
    ) -> Result<Vec<InboxPosition>, RepositoryError> {
        match self.writes.insert_batch(notifications, None).await? {
            IdempotentBatchInsert::Inserted { positions } => Ok(positions),
            IdempotentBatchInsert::AlreadyUsed(_) => Err(RepositoryError::Corrupt(
                "the writer answered a batch without a key as already used".into(),
            )),
        }
    }

    async fn insert_batch_idempotent(
        &self,
        notifications: &[Notification],
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentBatchInsert, RepositoryError> {
        self.writes
            .insert_batch(notifications, Some((claim.clone(), expired_before)))
            .await
    }

    async fn purge_idempotency_keys(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.writes.purge_idempotency_keys(older_than, limit).await
    }

    async fn get(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<Notification>, RepositoryError> {
        let row = sqlx::query_as::<_, WatermarkedRow>(sql::GET_WATERMARKED_NOTIFICATION)
            .bind(id.into_uuid())
            .bind(user_id.into_uuid())
            .fetch_optional(&self.reader)
            .await
            .map_err(repository_error)?;
        row.map(WatermarkedRow::into_notification).transpose()
    }

    async fn list(
        &self,
        user_id: UserId,
        query: ListQuery,
    ) -> Result<(Vec<Notification>, u64), RepositoryError> {
        // The counter (seq and read watermark) and the page from one
        // snapshot: a change committed between two separate reads would be
        // in neither or in both, and the watermark must be the page's.
        let mut snapshot = self
            .reader
            .begin_with(self.dialect.begin_snapshot)
            .await
            .map_err(repository_error)?;
        let counter: Option<(i64, i64, Option<OffsetDateTime>, bool)> =
            sqlx::query_as(sql::GET_COUNTER)
                .bind(user_id.into_uuid())
                .fetch_optional(&mut *snapshot)
                .await
                .map_err(repository_error)?;
        let (seq, read_all_seq, read_all_at, pending) = counter.unwrap_or((0, 0, None, false));
        let watermark = ReadWatermark::of(Some(read_all_seq), read_all_at);
        let pending = pending.then_some(read_all_seq);
        let text = sql::list_text(self.dialect.list_inbox, &query, pending.is_some());
        let values = sql::ListParameters::of(user_id.into_uuid(), &query, pending);
        let mut statement = sqlx::query_as::<_, NotificationRow>(&text);
        if let Some(status) = values.status {
            statement = statement.bind(status);
        }
        statement = statement.bind(values.user_id);
        if let Some(read_all_seq) = values.read_all_seq {
            statement = statement.bind(read_all_seq);
        }
        if let Some(before) = values.before {
            statement = statement.bind(before);
        }
        let rows = statement
            .bind(values.limit)
            .fetch_all(&mut *snapshot)
            .await
            .map_err(repository_error)?;
        snapshot.commit().await.map_err(repository_error)?;
        let seq = position_of(seq, 0)?.seq;
        Ok((into_notifications(rows, &watermark)?, seq))
    }

    async fn unread_count(&self, user_id: UserId) -> Result<InboxPosition, RepositoryError> {
        let mut reader = self.reader.acquire().await.map_err(repository_error)?;
        position(&mut *reader, user_id).await
    }

    async fn change_status(
        &self,
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
        at: OffsetDateTime,
    ) -> Result<Option<StatusChangeOutcome>, RepositoryError> {
        self.writes.change_status(user_id, id, change, at).await
    }

    async fn mark_all_read(
        &self,
        user_id: UserId,
        read_at: OffsetDateTime,
    ) -> Result<ReadAllOutcome, RepositoryError> {
        let outcome = self.writes.mark_all_read(user_id, read_at).await?;
        if outcome.updated > 0 {
            self.read_alls.notify_one();
        }
        Ok(outcome)
    }

    async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
        at: OffsetDateTime,
    ) -> Result<Option<InboxPosition>, RepositoryError> {
        self.writes.delete(user_id, id, at).await
    }

    async fn changes_after(
        &self,
        user_id: UserId,
        after: u64,
        limit: u32,
    ) -> Result<ChangesAfter, RepositoryError> {
        let mut reader = self.reader.acquire().await.map_err(repository_error)?;
        // The latest first: every change up to it has committed (with its
        // counter), so the log read next holds them all, whatever commits
        // in between (see [`sql::LIST_CHANGES`]).
        let latest = position(&mut *reader, user_id).await?;
        if after >= latest.seq {
            return Ok(if after == latest.seq {
                ChangesAfter::Kept {
                    changes: Vec::new(),
                    latest,
                }
            } else {
                ChangesAfter::Gone { latest }
            });
        }
        let as_i64 = |n: u64| i64::try_from(n).map_err(|e| RepositoryError::Other(Box::new(e)));
        let rows = sqlx::query_as::<_, ChangeLogRow>(sql::LIST_CHANGES)
            .bind(user_id.into_uuid())
            .bind(as_i64(after)?)
            .bind(as_i64(latest.seq)?)
            .bind(i64::from(limit.clamp(1, MAX_CHANGES_PER_READ)))
            .fetch_all(&mut *reader)
            .await
            .map_err(repository_error)?;
        // Kept only from right after `after`, without a gap: a row pruned
        // before its neighbours (clocks of two nodes apart) ends the page, and
        // the next read from there answers Gone.
        let mut changes = Vec::with_capacity(rows.len());
        for (expected, row) in (as_i64(after)? + 1..).zip(rows) {
            if row.seq() != expected {
                break;
            }
            changes.push(row.into_event()?);
        }
        Ok(if changes.is_empty() {
            ChangesAfter::Gone { latest }
        } else {
            ChangesAfter::Kept { changes, latest }
        })
    }

    async fn creation_seq(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<u64>, RepositoryError> {
        let seq: Option<i64> = sqlx::query_scalar(sql::CREATION_SEQ)
            .bind(id.into_uuid())
            .bind(user_id.into_uuid())
            .fetch_optional(&self.reader)
            .await
            .map_err(repository_error)?;
        seq.map(|seq| position_of(seq, 0).map(|position| position.seq))
            .transpose()
    }

    async fn latest_seqs(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, InboxPosition)>, RepositoryError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = users
            .iter()
            .map(|user| user.into_uuid().hyphenated().to_string())
            .collect();
        let ids = serde_json::to_string(&ids).map_err(|e| RepositoryError::Other(Box::new(e)))?;
        let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(self.dialect.latest_seqs)
            .bind(ids)
            .fetch_all(&self.reader)
            .await
            .map_err(repository_error)?;
        rows.into_iter()
            .map(|(user, seq, count)| Ok((UserId::from_uuid(user), position_of(seq, count)?)))
            .collect()
    }

    async fn purge_changes(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.writes.purge_changes(older_than, limit).await
    }

    async fn expired_notifications(
        &self,
        created_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<(UserId, NotificationId)>, RepositoryError> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(sql::EXPIRED_NOTIFICATIONS)
            .bind(sql::first_id_at(created_before))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(repository_error)?;
        Ok(rows
            .into_iter()
            .map(|(user, id)| (UserId::from_uuid(user), NotificationId::from_uuid(id)))
            .collect())
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        sqlx::query(sql::PING)
            .execute(&self.reader)
            .await
            .map_err(repository_error)?;
        Ok(())
    }
}
