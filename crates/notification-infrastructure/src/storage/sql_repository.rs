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
//! The unread counter is kept in the same transaction as every change, so each
//! write returns the user's count without a `count(*)`. Every write takes the
//! user's counter row first ([`LOCK_COUNTER`] on PostgreSQL; batched creates
//! lock theirs in ascending user order), then changes notification rows, then
//! the counter: one user's writes are serialized on that one row, in the order
//! they commit, and no transaction holds a notification row while it waits for
//! a counter. (SQLite has one writer connection: its writes are serialized
//! already.)

use notification_domain::{ListQuery, NotificationStatus, RepositoryError, StatusFilter};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

use super::idempotency_row::idempotency_columns;
use super::row::notification_columns;

pub(crate) const INSERT_NOTIFICATION: &str = "\
    INSERT INTO notifications \
        (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

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

/// Compare-and-set: changes the row only if its status is still `$6`.
pub(crate) const UPDATE_STATUS: &str = "\
    UPDATE notifications SET status = $1, read_at = $2, archived_at = $3 \
    WHERE id = $4 AND user_id = $5 AND status = $6";

pub(crate) const MARK_ALL_READ: &str = "\
    UPDATE notifications SET status = 'READ', read_at = $1 \
    WHERE user_id = $2 AND status = 'UNREAD'";

pub(crate) const DELETE_NOTIFICATION: &str =
    "DELETE FROM notifications WHERE id = $1 AND user_id = $2 RETURNING status";

/// Takes the user's counter row for the rest of the transaction (PostgreSQL).
/// A user without one has no notifications yet; the write creating the first
/// creates the row.
pub(crate) const LOCK_COUNTER: &str =
    "SELECT unread_count FROM unread_counters WHERE user_id = $1 FOR UPDATE";

pub(crate) const GET_UNREAD_COUNT: &str =
    "SELECT unread_count FROM unread_counters WHERE user_id = $1";

/// Adds a positive amount, creating the user's counter with the first unread
/// notification.
pub(crate) const INCREASE_UNREAD_COUNT: &str = "\
    INSERT INTO unread_counters (user_id, unread_count) VALUES ($1, $2) \
    ON CONFLICT (user_id) DO UPDATE \
    SET unread_count = unread_counters.unread_count + excluded.unread_count \
    RETURNING unread_count";

/// Adds zero or a negative amount. Not an upsert: PostgreSQL checks
/// `unread_count >= 0` on the proposed INSERT row before it finds the conflict,
/// so a negative upsert would fail even when the counter exists.
pub(crate) const ADD_TO_UNREAD_COUNT: &str = "\
    UPDATE unread_counters SET unread_count = unread_count + $2 \
    WHERE user_id = $1 RETURNING unread_count";

/// How often an idempotent insert claims its key again when the record it
/// collided with was gone by the time it was read.
pub(crate) const MAX_CLAIM_ATTEMPTS: usize = 3;

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
/// `reader: Pool<$database>` (every read) and `inserts: GroupCommit` (the
/// queue that writes new notifications in batches). `$list_inbox` is the database's
/// form of [`LIST_INBOX`]; `$lock_counter` is [`LOCK_COUNTER`] where
/// transactions run concurrently, `None` where they cannot.
macro_rules! impl_notification_repository {
    ($repository:ty, $database:ty, list_inbox: $list_inbox:expr, lock_counter: $lock_counter:expr) => {
        // An unnamed const: a scope for the `use`s, invisible outside.
        const _: () = {
            use ::async_trait::async_trait;
            use ::notification_domain::{
                IdempotencyClaim, IdempotentInsert, ListQuery, Notification, NotificationId,
                NotificationRepository, NotificationStatus, ReadAllOutcome, RepositoryError,
                UserId,
            };
            use ::sqlx::Transaction;
            use ::time::OffsetDateTime;
            use ::uuid::Uuid;

            use $crate::storage::error::repository_error;
            use $crate::storage::idempotency_row::{unix_micros, IdempotencyRow};
            use $crate::storage::row::{into_notifications, metadata_column, NotificationRow};
            use $crate::storage::sql_repository::{self as sql, unread_count_value};

            /// Takes the user's counter row first, before any notification
            /// row (see the module's comment).
            async fn lock_counter(
                tx: &mut Transaction<'static, $database>,
                user_id: Uuid,
            ) -> Result<(), RepositoryError> {
                let statement: Option<&str> = $lock_counter;
                if let Some(statement) = statement {
                    ::sqlx::query(statement)
                        .bind(user_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(repository_error)?;
                }
                Ok(())
            }

            /// Adds `delta` to the user's unread counter inside `tx`; returns
            /// the count afterwards (0 for a user who never had a counter).
            async fn add_to_unread_count(
                tx: &mut Transaction<'static, $database>,
                user_id: Uuid,
                delta: i64,
            ) -> Result<u64, RepositoryError> {
                let statement = if delta > 0 {
                    sql::INCREASE_UNREAD_COUNT
                } else {
                    sql::ADD_TO_UNREAD_COUNT
                };
                let count: Option<i64> = ::sqlx::query_scalar(statement)
                    .bind(user_id)
                    .bind(delta)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(repository_error)?;
                unread_count_value(count.unwrap_or(0))
            }

            /// Inserts the notification and counts it inside `tx`; returns
            /// the user's unread count afterwards.
            async fn insert_notification(
                tx: &mut Transaction<'static, $database>,
                notification: &Notification,
            ) -> Result<u64, RepositoryError> {
                let user_id = notification.user_id().into_uuid();
                ::sqlx::query(sql::INSERT_NOTIFICATION)
                    .bind(notification.id().into_uuid())
                    .bind(user_id)
                    .bind(notification.title())
                    .bind(notification.message())
                    .bind(notification.notification_type().as_str())
                    .bind(notification.status().as_str())
                    .bind(metadata_column(notification))
                    .bind(notification.created_at())
                    .bind(notification.read_at())
                    .bind(notification.archived_at())
                    .execute(&mut **tx)
                    .await
                    .map_err(repository_error)?;
                let delta = sql::unread_weight(notification.status());
                add_to_unread_count(tx, user_id, delta).await
            }

            /// Records `claim` with a snapshot of `notification` inside `tx`,
            /// after forgetting an expired record of the same key. Returns
            /// whether the key was free.
            async fn claim_key(
                tx: &mut Transaction<'static, $database>,
                notification: &Notification,
                claim: &IdempotencyClaim,
                expired_before: OffsetDateTime,
            ) -> Result<bool, RepositoryError> {
                let publisher_id = claim.publisher.into_uuid();
                ::sqlx::query(sql::FORGET_EXPIRED_KEY)
                    .bind(publisher_id)
                    .bind(claim.key.as_str())
                    .bind(unix_micros(expired_before))
                    .execute(&mut **tx)
                    .await
                    .map_err(repository_error)?;
                let inserted = ::sqlx::query(sql::CLAIM_KEY)
                    .bind(publisher_id)
                    .bind(claim.key.as_str())
                    .bind(&claim.fingerprint.as_bytes()[..])
                    .bind(notification.id().into_uuid())
                    .bind(notification.user_id().into_uuid())
                    .bind(notification.title())
                    .bind(notification.message())
                    .bind(notification.notification_type().as_str())
                    .bind(metadata_column(notification))
                    .bind(unix_micros(notification.created_at()))
                    .execute(&mut **tx)
                    .await
                    .map_err(repository_error)?
                    .rows_affected();
                Ok(inserted == 1)
            }

            #[async_trait]
            impl NotificationRepository for $repository {
                async fn insert(
                    &self,
                    notification: &Notification,
                ) -> Result<u64, RepositoryError> {
                    // Through the queue: written with whatever else is waiting.
                    self.inserts.insert(notification).await
                }

                async fn insert_idempotent(
                    &self,
                    notification: &Notification,
                    claim: &IdempotencyClaim,
                    expired_before: OffsetDateTime,
                ) -> Result<IdempotentInsert, RepositoryError> {
                    let mut tx = self.writer.begin().await.map_err(repository_error)?;
                    lock_counter(&mut tx, notification.user_id().into_uuid()).await?;
                    for _ in 0..sql::MAX_CLAIM_ATTEMPTS {
                        // The key row first: a request that loses the race
                        // waits on it before touching any notification or
                        // counter.
                        if claim_key(&mut tx, notification, claim, expired_before).await? {
                            let unread_count = insert_notification(&mut tx, notification).await?;
                            tx.commit().await.map_err(repository_error)?;
                            return Ok(IdempotentInsert::Inserted { unread_count });
                        }
                        // Taken, by a request that has committed: a new
                        // statement sees its row (PostgreSQL's READ COMMITTED
                        // takes a fresh snapshot per statement).
                        let row = ::sqlx::query_as::<_, IdempotencyRow>(sql::GET_KEY)
                            .bind(claim.publisher.into_uuid())
                            .bind(claim.key.as_str())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(repository_error)?;
                        if let Some(row) = row {
                            // Dropping `tx` rolls back a transaction that
                            // wrote nothing.
                            return Ok(IdempotentInsert::AlreadyUsed(row.into_record()?));
                        }
                        // Purged between the two statements (by a node whose
                        // clock runs ahead): the key is free now, claim again.
                    }
                    Err(RepositoryError::Unavailable(
                        "idempotency key kept changing while it was claimed".into(),
                    ))
                }

                async fn purge_idempotency_keys(
                    &self,
                    older_than: OffsetDateTime,
                    limit: u32,
                ) -> Result<u64, RepositoryError> {
                    let purged = ::sqlx::query(sql::PURGE_KEYS)
                        .bind(unix_micros(older_than))
                        .bind(i64::from(limit))
                        .execute(&self.writer)
                        .await
                        .map_err(repository_error)?
                        .rows_affected();
                    Ok(purged)
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

                async fn update_status(
                    &self,
                    notification: &Notification,
                    expected: NotificationStatus,
                ) -> Result<Option<u64>, RepositoryError> {
                    let user_id = notification.user_id().into_uuid();
                    let mut tx = self.writer.begin().await.map_err(repository_error)?;
                    lock_counter(&mut tx, user_id).await?;
                    let changed = ::sqlx::query(sql::UPDATE_STATUS)
                        .bind(notification.status().as_str())
                        .bind(notification.read_at())
                        .bind(notification.archived_at())
                        .bind(notification.id().into_uuid())
                        .bind(user_id)
                        .bind(expected.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(repository_error)?
                        .rows_affected();
                    if changed == 0 {
                        // Changed or deleted since it was read. Dropping `tx`
                        // rolls back a transaction that wrote nothing.
                        return Ok(None);
                    }
                    let delta = sql::unread_delta(expected, notification.status());
                    let unread = add_to_unread_count(&mut tx, user_id, delta).await?;
                    tx.commit().await.map_err(repository_error)?;
                    Ok(Some(unread))
                }

                async fn mark_all_read(
                    &self,
                    user_id: UserId,
                    read_at: OffsetDateTime,
                ) -> Result<ReadAllOutcome, RepositoryError> {
                    let user_id = user_id.into_uuid();
                    let mut tx = self.writer.begin().await.map_err(repository_error)?;
                    lock_counter(&mut tx, user_id).await?;
                    let updated = ::sqlx::query(sql::MARK_ALL_READ)
                        .bind(read_at)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(repository_error)?
                        .rows_affected();
                    // Subtract what this statement changed rather than setting 0:
                    // a notification inserted meanwhile (not seen by the UPDATE)
                    // keeps its +1.
                    let delta =
                        i64::try_from(updated).map_err(|e| RepositoryError::Other(Box::new(e)))?;
                    let unread_count = add_to_unread_count(&mut tx, user_id, -delta).await?;
                    tx.commit().await.map_err(repository_error)?;
                    Ok(ReadAllOutcome {
                        updated,
                        unread_count,
                    })
                }

                async fn delete(
                    &self,
                    user_id: UserId,
                    id: NotificationId,
                ) -> Result<Option<u64>, RepositoryError> {
                    let user_id = user_id.into_uuid();
                    let mut tx = self.writer.begin().await.map_err(repository_error)?;
                    lock_counter(&mut tx, user_id).await?;
                    let deleted: Option<String> = ::sqlx::query_scalar(sql::DELETE_NOTIFICATION)
                        .bind(id.into_uuid())
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(repository_error)?;
                    let Some(status) = deleted else {
                        return Ok(None);
                    };
                    let was_unread = status == NotificationStatus::Unread.as_str();
                    let delta = if was_unread { -1 } else { 0 };
                    let unread = add_to_unread_count(&mut tx, user_id, delta).await?;
                    tx.commit().await.map_err(repository_error)?;
                    Ok(Some(unread))
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
