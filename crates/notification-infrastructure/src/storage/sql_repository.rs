//! The repository's SQL and method bodies, written once for both databases.
//!
//! The statements use only what SQLite and PostgreSQL share: `$n` parameters
//! (sqlx maps them on SQLite too), `RETURNING`, `ON CONFLICT … DO UPDATE`, and
//! the same Rust types bound and read (see [`super::row`]). What cannot be
//! written once as plain generic code is the driving of the pools:
//! `Pool<Sqlite>` and `Pool<Postgres>` have no common trait that a generic
//! `impl` could use without pages of higher-ranked bounds. So the bodies live in
//! [`impl_notification_repository!`], expanded once per database; a repository
//! type only has to provide a `writer` and a `reader` pool.
//!
//! Writes are not here: every write goes through the writer queue
//! (`group_commit`), which runs them in batches (`write_batch`) over the
//! statements of `sql_statements` and each database's batch statements.

use notification_domain::{ListQuery, NotificationStatus, RepositoryError, StatusFilter};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

use super::idempotency_row::idempotency_columns;
use super::row::notification_columns;

pub(crate) const GET_NOTIFICATION: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE id = $1 AND user_id = $2"
);

/// The start of an inbox page; [`list_statement`] appends the user, the
/// cursor, the order and the limit. The status condition is exactly the
/// predicate of the partial index `notifications_inbox_by_user`: PostgreSQL
/// uses that index only when the query repeats it.
pub(crate) const LIST_INBOX: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE status IN ('UNREAD', 'READ') AND user_id = "
);

/// [`LIST_INBOX`] for SQLite, which names the index: without statistics
/// (ANALYZE) SQLite's planner rates `notifications_by_user` as good as the
/// partial index and may pick it, then walks the user's archived rows too.
/// `INDEXED BY` pins the plan, and turns a dropped index into an error instead
/// of a slow query.
pub(crate) const LIST_INBOX_SQLITE: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications INDEXED BY notifications_inbox_by_user",
    " WHERE status IN ('UNREAD', 'READ') AND user_id = "
);

/// The start of a page of one status; [`list_statement`] appends the status,
/// the user, the cursor, the order and the limit.
pub(crate) const LIST_WITH_STATUS: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE status = "
);

pub(crate) const LIST_AFTER: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id ASC LIMIT $3"
);

/// The row cannot have changed since it was read: the writer holds the
/// user's counter, which every write of the user takes first.
pub(crate) const UPDATE_STATUS: &str = "\
    UPDATE notifications SET status = $1, read_at = $2, archived_at = $3 \
    WHERE id = $4 AND user_id = $5";

pub(crate) const MARK_ALL_READ: &str = "\
    UPDATE notifications SET status = 'READ', read_at = $1 \
    WHERE user_id = $2 AND status = 'UNREAD'";

pub(crate) const DELETE_NOTIFICATION: &str =
    "DELETE FROM notifications WHERE id = $1 AND user_id = $2 RETURNING status";

pub(crate) const GET_UNREAD_COUNT: &str =
    "SELECT unread_count FROM unread_counters WHERE user_id = $1";

/// Forgets the publisher's key if it expired: an expired key is as good as new.
pub(crate) const FORGET_EXPIRED_KEY: &str = "\
    DELETE FROM idempotency_keys \
    WHERE publisher_id = $1 AND idempotency_key = $2 AND created_at_micros < $3";

/// Records a key, unless the publisher already has it: then nothing happens
/// (0 rows affected). On PostgreSQL a concurrent insert of the same key makes
/// this wait until that transaction ends, so exactly one of them inserts.
pub(crate) const CLAIM_KEY: &str = "\
    INSERT INTO idempotency_keys \
        (publisher_id, idempotency_key, fingerprint, notification_id, user_id, \
         title, message, type, metadata, created_at_micros) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (publisher_id, idempotency_key) DO NOTHING";

pub(crate) const GET_KEY: &str = concat!(
    "SELECT ",
    idempotency_columns!(),
    " FROM idempotency_keys WHERE publisher_id = $1 AND idempotency_key = $2"
);

/// Deletes up to `$2` keys older than `$1`, the oldest first. A bounded
/// chunk: `DELETE … LIMIT` is not standard SQL (PostgreSQL lacks it), so the
/// chunk is chosen by a subquery on the age index and deleted by primary key.
pub(crate) const PURGE_KEYS: &str = "\
    DELETE FROM idempotency_keys WHERE (publisher_id, idempotency_key) IN ( \
        SELECT publisher_id, idempotency_key FROM idempotency_keys \
        WHERE created_at_micros < $1 ORDER BY created_at_micros LIMIT $2)";

pub(crate) const PING: &str = "SELECT 1";

/// The query of one page of `user_id`'s notifications, newest first.
/// `list_inbox` is the database's form of [`LIST_INBOX`].
pub(crate) fn list_statement<'args, DB>(
    list_inbox: &'args str,
    user_id: Uuid,
    query: ListQuery,
) -> QueryBuilder<'args, DB>
where
    DB: Database,
    Uuid: Encode<'args, DB> + Type<DB>,
    &'args str: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
{
    let mut statement = match query.filter {
        StatusFilter::Inbox => QueryBuilder::new(list_inbox),
        StatusFilter::Only(status) => {
            let mut statement = QueryBuilder::new(LIST_WITH_STATUS);
            statement.push_bind(status.as_str()).push(" AND user_id = ");
            statement
        }
    };
    statement.push_bind(user_id);
    if let Some(before) = query.before {
        statement.push(" AND id < ").push_bind(before.into_uuid());
    }
    statement
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    statement
}

/// How the user's unread count changes when a notification goes from `from` to
/// `to`: −1 when it leaves UNREAD, +1 when it comes back, else 0.
pub(crate) fn unread_delta(from: NotificationStatus, to: NotificationStatus) -> i64 {
    unread_weight(to) - unread_weight(from)
}

/// 1 for an UNREAD notification, else 0: what it adds to the unread count.
pub(crate) fn unread_weight(status: NotificationStatus) -> i64 {
    i64::from(status == NotificationStatus::Unread)
}

/// The counter column as the port's `u64`. The schema forbids negative values,
/// so one can only come from a database edited by hand.
pub(crate) fn unread_count_value(count: i64) -> Result<u64, RepositoryError> {
    u64::try_from(count)
        .map_err(|_| RepositoryError::Corrupt(format!("negative unread count {count}")))
}

/// Implements `NotificationRepository` for `$repository`, a struct with fields
/// `writer: Pool<$database>` (every write goes through it),
/// `reader: Pool<$database>` (every read) and `writes: GroupCommit` (the
/// queue every write goes through). `$list_inbox` is the database's form of
/// [`LIST_INBOX`].
macro_rules! impl_notification_repository {
    ($repository:ty, $database:ty, list_inbox: $list_inbox:expr) => {
        // An unnamed const: a scope for the `use`s, invisible outside.
        const _: () = {
            use ::async_trait::async_trait;
            use ::notification_domain::{
                IdempotencyClaim, IdempotentInsert, ListQuery, Notification, NotificationId,
                NotificationRepository, ReadAllOutcome, RepositoryError, StatusChange,
                StatusChangeOutcome, UserId,
            };
            use ::time::OffsetDateTime;

            use $crate::storage::error::repository_error;
            use $crate::storage::row::{into_notifications, NotificationRow};
            use $crate::storage::sql_repository::{self as sql, unread_count_value};

            #[async_trait]
            impl NotificationRepository for $repository {
                // Every write goes through the one writer queue.
                async fn insert(
                    &self,
                    notification: &Notification,
                ) -> Result<u64, RepositoryError> {
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
                ) -> Result<Option<u64>, RepositoryError> {
                    self.writes.delete(user_id, id).await
                }

                async fn get(
                    &self,
                    user_id: UserId,
                    id: NotificationId,
                ) -> Result<Option<Notification>, RepositoryError> {
                    ::sqlx::query_as::<_, NotificationRow>(sql::GET_NOTIFICATION)
                        .bind(id.into_uuid())
                        .bind(user_id.into_uuid())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(repository_error)?
                        .map(NotificationRow::into_notification)
                        .transpose()
                }

                async fn list(
                    &self,
                    user_id: UserId,
                    query: ListQuery,
                ) -> Result<Vec<Notification>, RepositoryError> {
                    let mut statement =
                        sql::list_statement::<$database>($list_inbox, user_id.into_uuid(), query);
                    let rows = statement
                        .build_query_as::<NotificationRow>()
                        .fetch_all(&self.reader)
                        .await
                        .map_err(repository_error)?;
                    into_notifications(rows)
                }

                async fn unread_count(&self, user_id: UserId) -> Result<u64, RepositoryError> {
                    let count: Option<i64> = ::sqlx::query_scalar(sql::GET_UNREAD_COUNT)
                        .bind(user_id.into_uuid())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(repository_error)?;
                    unread_count_value(count.unwrap_or(0))
                }

                async fn list_after(
                    &self,
                    user_id: UserId,
                    after: NotificationId,
                    limit: u32,
                ) -> Result<Vec<Notification>, RepositoryError> {
                    let rows = ::sqlx::query_as::<_, NotificationRow>(sql::LIST_AFTER)
                        .bind(user_id.into_uuid())
                        .bind(after.into_uuid())
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await
                        .map_err(repository_error)?;
                    into_notifications(rows)
                }

                async fn ping(&self) -> Result<(), RepositoryError> {
                    ::sqlx::query(sql::PING)
                        .execute(&self.reader)
                        .await
                        .map_err(repository_error)?;
                    Ok(())
                }
            }
        };
    };
}
pub(crate) use impl_notification_repository;

#[cfg(test)]
mod tests {
    use super::*;
    use NotificationStatus::{Archived, Read, Unread};

    #[test]
    fn leaving_unread_lowers_the_count_and_coming_back_raises_it() {
        assert_eq!(unread_delta(Unread, Read), -1);
        assert_eq!(unread_delta(Unread, Archived), -1);
        assert_eq!(unread_delta(Read, Unread), 1);
        assert_eq!(unread_delta(Archived, Unread), 1);
        assert_eq!(unread_delta(Read, Archived), 0);
    }

    #[test]
    fn a_negative_stored_count_is_reported_as_corrupt() {
        assert_eq!(unread_count_value(3).unwrap(), 3);
        assert!(matches!(
            unread_count_value(-1),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
