//! [`SqlRepository`]: the `NotificationRepository` port on either database,
//! written once as generic code over sqlx's `Database`.
//!
//! Reads run on the reader pool; every write goes through the writer queue
//! (`group_commit`), which the database's own module sets up with its batch
//! writer.

use async_trait::async_trait;
use notification_domain::{
    ChangesAfter, IdempotencyClaim, IdempotentInsert, InboxPosition, ListQuery, Notification,
    NotificationId, NotificationRepository, ReadAllOutcome, RepositoryError, StatusChange,
    StatusChangeOutcome, UserId,
};
use sqlx::database::Database;
use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::repository_error;
use super::group_commit::GroupCommit;
use super::row::{into_notifications, NotificationRow};
use super::sql_repository::{self as sql, unread_count_value};
use super::sql_statements::get_notification;

/// The port on one database: the reads' pool and the writes' queue.
pub struct SqlRepository<DB: Database> {
    reader: Pool<DB>,
    writes: GroupCommit,
    /// The database's form of [`sql::LIST_INBOX`].
    list_inbox: &'static str,
}

impl<DB: Database> SqlRepository<DB> {
    pub(crate) fn new(reader: Pool<DB>, writes: GroupCommit, list_inbox: &'static str) -> Self {
        Self {
            reader,
            writes,
            list_inbox,
        }
    }

    /// How many writes wait for a batch (see `WriteLimits`).
    pub(crate) fn queued_writes(&self) -> usize {
        self.writes.queued_writes()
    }
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
    NotificationRow: for<'r> FromRow<'r, DB::Row>,
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
        let row = get_notification(user_id, id)
            .fetch_optional(&self.reader)
            .await
            .map_err(repository_error)?;
        row.map(NotificationRow::into_notification).transpose()
    }

    async fn list(
        &self,
        user_id: UserId,
        query: ListQuery,
    ) -> Result<(Vec<Notification>, u64), RepositoryError> {
        let text = sql::list_text(self.list_inbox, &query);
        let values = sql::ListParameters::of(user_id.into_uuid(), &query);
        let mut statement = sqlx::query_as::<_, NotificationRow>(&text);
        if let Some(status) = values.status {
            statement = statement.bind(status);
        }
        statement = statement.bind(values.user_id);
        if let Some(before) = values.before {
            statement = statement.bind(before);
        }
        let rows = statement
            .bind(values.limit)
            .fetch_all(&self.reader)
            .await
            .map_err(repository_error)?;
        Ok((into_notifications(rows)?, 0))
    }

    async fn unread_count(&self, user_id: UserId) -> Result<InboxPosition, RepositoryError> {
        let count: Option<i64> = sqlx::query_scalar(sql::GET_UNREAD_COUNT)
            .bind(user_id.into_uuid())
            .fetch_optional(&self.reader)
            .await
            .map_err(repository_error)?;
        Ok(InboxPosition {
            seq: 0,
            unread_count: unread_count_value(count.unwrap_or(0))?,
        })
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
        self.writes.mark_all_read(user_id, read_at).await
    }

    async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
        at: OffsetDateTime,
    ) -> Result<Option<InboxPosition>, RepositoryError> {
        self.writes.delete(user_id, id, at).await
    }

    async fn list_after(
        &self,
        user_id: UserId,
        after: NotificationId,
        limit: u32,
    ) -> Result<Vec<Notification>, RepositoryError> {
        let rows = sqlx::query_as::<_, NotificationRow>(sql::LIST_AFTER)
            .bind(user_id.into_uuid())
            .bind(after.into_uuid())
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(repository_error)?;
        into_notifications(rows)
    }

    async fn changes_after(
        &self,
        _user_id: UserId,
        _after: u64,
        _limit: u32,
    ) -> Result<ChangesAfter, RepositoryError> {
        Ok(ChangesAfter::Kept {
            changes: Vec::new(),
            latest: InboxPosition::default(),
        })
    }

    async fn creation_seq(
        &self,
        _user_id: UserId,
        _id: NotificationId,
    ) -> Result<Option<u64>, RepositoryError> {
        Ok(None)
    }

    async fn latest_seqs(
        &self,
        _users: &[UserId],
    ) -> Result<Vec<(UserId, InboxPosition)>, RepositoryError> {
        Ok(Vec::new())
    }

    async fn purge_changes(
        &self,
        _older_than: OffsetDateTime,
        _limit: u32,
    ) -> Result<u64, RepositoryError> {
        Ok(0)
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        sqlx::query(sql::PING)
            .execute(&self.reader)
            .await
            .map_err(repository_error)?;
        Ok(())
    }
}
