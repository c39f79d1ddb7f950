//! [`RowStatements`] for a sqlx transaction (PostgreSQL's writer; SQLite's
//! writer runs the same SQL text on its own connection, `sqlite_statements`):
//! the SQL text of `sql_repository` with its values bound, as generic code
//! over sqlx's `Database`.

use async_trait::async_trait;
use notification_domain::{
    BatchIdempotencyRecord, IdempotencyClaim, Notification, NotificationId, RepositoryError, UserId,
};
use serde_json::{Map, Value};
use sqlx::database::Database;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Encode, Executor, FromRow, IntoArguments, Transaction, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::repository_error;
use super::idempotency_row::{unix_micros, IdempotencyRow};
use super::read_watermark::ReadWatermark;
use super::row::{metadata_column, NotificationRow};
use super::sql_repository as sql;
use super::write_batch::RowStatements;

#[async_trait]
impl<'c, DB> RowStatements for Transaction<'c, DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Uuid: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    Option<OffsetDateTime>: for<'q> Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Json<&'q Map<String, Value>>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Json<&'q Value>>: Encode<'q, DB> + Type<DB>,
    NotificationRow: for<'r> FromRow<'r, DB::Row>,
    (String, Option<i64>): for<'r> FromRow<'r, DB::Row>,
    IdempotencyRow: for<'r> FromRow<'r, DB::Row>,
    usize: ColumnIndex<DB::Row>,
    DB::QueryResult: RowsAffected,
{
    async fn forget_expired_key(
        &mut self,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        sqlx::query(sql::FORGET_EXPIRED_KEY)
            .bind(claim.publisher.into_uuid())
            .bind(claim.key.as_str())
            .bind(unix_micros(expired_before))
            .execute(&mut **self)
            .await
            .map_err(repository_error)?;
        Ok(())
    }

    async fn claim_key(
        &mut self,
        notification: &Notification,
        batch_items: Option<&Value>,
        claim: &IdempotencyClaim,
    ) -> Result<bool, RepositoryError> {
        let inserted = sqlx::query(sql::CLAIM_KEY)
            .bind(claim.publisher.into_uuid())
            .bind(claim.key.as_str())
            .bind(&claim.fingerprint.as_bytes()[..])
            .bind(notification.id().into_uuid())
            .bind(notification.user_id().into_uuid())
            .bind(notification.title())
            .bind(notification.message())
            .bind(notification.notification_type().as_str())
            .bind(metadata_column(notification))
            .bind(unix_micros(notification.created_at()))
            .bind(batch_items.map(Json))
            .execute(&mut **self)
            .await
            .map_err(repository_error)?
            .rows_changed();
        Ok(inserted == 1)
    }

    async fn get_key(
        &mut self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<BatchIdempotencyRecord>, RepositoryError> {
        sqlx::query_as::<_, IdempotencyRow>(sql::GET_KEY)
            .bind(claim.publisher.into_uuid())
            .bind(claim.key.as_str())
            .fetch_optional(&mut **self)
            .await
            .map_err(repository_error)?
            .map(IdempotencyRow::into_batch_record)
            .transpose()
    }

    async fn get_notification(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<NotificationRow>, RepositoryError> {
        sqlx::query_as(sql::GET_NOTIFICATION)
            .bind(id.into_uuid())
            .bind(user_id.into_uuid())
            .fetch_optional(&mut **self)
            .await
            .map_err(repository_error)
    }

    async fn store_status(
        &mut self,
        notification: &Notification,
        changed_seq: i64,
    ) -> Result<(), RepositoryError> {
        sqlx::query(sql::UPDATE_STATUS)
            .bind(notification.status().as_str())
            .bind(notification.read_at())
            .bind(notification.archived_at())
            .bind(notification.id().into_uuid())
            .bind(notification.user_id().into_uuid())
            .bind(changed_seq)
            .execute(&mut **self)
            .await
            .map_err(repository_error)?;
        Ok(())
    }

    async fn delete(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<(String, Option<i64>)>, RepositoryError> {
        sqlx::query_as(sql::DELETE_NOTIFICATION)
            .bind(id.into_uuid())
            .bind(user_id.into_uuid())
            .fetch_optional(&mut **self)
            .await
            .map_err(repository_error)
    }

    async fn materialize_read_all(
        &mut self,
        user_id: UserId,
        watermark: &ReadWatermark,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        Ok(sqlx::query(sql::MATERIALIZE_READ_ALL)
            .bind(watermark.at)
            .bind(user_id.into_uuid())
            .bind(watermark.seq)
            .bind(i64::from(limit))
            .execute(&mut **self)
            .await
            .map_err(repository_error)?
            .rows_changed())
    }

    async fn purge_keys(
        &mut self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        purge(self, sql::PURGE_KEYS, older_than, limit).await
    }
}

/// Runs a purge statement: `$1` the time (µs) before which rows go, `$2` how
/// many at most; returns how many went.
pub(crate) async fn purge<'c, DB>(
    tx: &mut Transaction<'c, DB>,
    statement: &'static str,
    older_than: OffsetDateTime,
    limit: u32,
) -> Result<u64, RepositoryError>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    DB::QueryResult: RowsAffected,
{
    Ok(sqlx::query(statement)
        .bind(unix_micros(older_than))
        .bind(i64::from(limit))
        .execute(&mut **tx)
        .await
        .map_err(repository_error)?
        .rows_changed())
}

/// How many rows a statement changed: each database's result type has the
/// method, but sqlx's `Database` does not name it.
pub(crate) trait RowsAffected {
    fn rows_changed(&self) -> u64;
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_changed(&self) -> u64 {
        self.rows_affected()
    }
}
