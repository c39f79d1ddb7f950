//! [`RowStatements`] on the SQLite writer connection: the SQL text both
//! databases share (`sql_repository`), with the values sqlx would bind for
//! them (`sqlite_values`).

use async_trait::async_trait;
use notification_domain::{
    BatchIdempotencyRecord, IdempotencyClaim, Notification, NotificationId, RepositoryError, UserId,
};
use serde_json::Value;
use time::OffsetDateTime;

use super::idempotency_row::{unix_micros, IdempotencyRow};
use super::read_watermark::ReadWatermark;
use super::row::NotificationRow;
use super::sql_repository as sql;
use super::sqlite_values::{id_value, json_text, time_value};
use super::sqlite_writer::SqliteTransaction;
use super::write_batch::RowStatements;

#[async_trait]
impl RowStatements for SqliteTransaction<'_> {
    async fn forget_expired_key(
        &mut self,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        self.execute(
            sql::FORGET_EXPIRED_KEY,
            &[
                &id_value(claim.publisher.into_uuid()),
                &claim.key.as_str(),
                &unix_micros(expired_before),
            ],
        )?;
        Ok(())
    }

    async fn claim_key(
        &mut self,
        notification: &Notification,
        batch_items: Option<&Value>,
        claim: &IdempotencyClaim,
    ) -> Result<bool, RepositoryError> {
        let inserted = self.execute(
            sql::CLAIM_KEY,
            &[
                &id_value(claim.publisher.into_uuid()),
                &claim.key.as_str(),
                &&claim.fingerprint.as_bytes()[..],
                &id_value(notification.id().into_uuid()),
                &id_value(notification.user_id().into_uuid()),
                &notification.title(),
                &notification.message(),
                &notification.notification_type().as_str(),
                &json_text(notification.metadata().as_map())?,
                &unix_micros(notification.created_at()),
                &batch_items.map(json_text).transpose()?,
            ],
        )?;
        Ok(inserted == 1)
    }

    async fn get_key(
        &mut self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<BatchIdempotencyRecord>, RepositoryError> {
        let rows = self.query(
            sql::GET_KEY,
            &[&id_value(claim.publisher.into_uuid()), &claim.key.as_str()],
            IdempotencyRow::from_sqlite,
        )?;
        rows.into_iter()
            .next()
            .map(IdempotencyRow::into_batch_record)
            .transpose()
    }

    async fn get_notification(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<NotificationRow>, RepositoryError> {
        let rows = self.query(
            sql::GET_NOTIFICATION,
            &[&id_value(id.into_uuid()), &id_value(user_id.into_uuid())],
            NotificationRow::from_sqlite,
        )?;
        Ok(rows.into_iter().next())
    }

    async fn store_status(
        &mut self,
        notification: &Notification,
        changed_seq: i64,
    ) -> Result<(), RepositoryError> {
        self.execute(
            sql::UPDATE_STATUS,
            &[
                &notification.status().as_str(),
                &notification.read_at().map(time_value).transpose()?,
                &notification.archived_at().map(time_value).transpose()?,
                &id_value(notification.id().into_uuid()),
                &id_value(notification.user_id().into_uuid()),
                &changed_seq,
            ],
        )?;
        Ok(())
    }

    async fn delete(
        &mut self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<(String, Option<i64>)>, RepositoryError> {
        let deleted = self.query(
            sql::DELETE_NOTIFICATION,
            &[&id_value(id.into_uuid()), &id_value(user_id.into_uuid())],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(deleted.into_iter().next())
    }

    async fn materialize_read_all(
        &mut self,
        user_id: UserId,
        watermark: &ReadWatermark,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        let updated = self.execute(
            sql::MATERIALIZE_READ_ALL,
            &[
                &watermark.at.map(time_value).transpose()?,
                &id_value(user_id.into_uuid()),
                &watermark.seq,
                &i64::from(limit),
            ],
        )?;
        Ok(updated as u64)
    }

    async fn purge_keys(
        &mut self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.purge(sql::PURGE_KEYS, older_than, limit)
    }
}

impl SqliteTransaction<'_> {
    /// Runs a purge statement: `$1` the time (µs) before which rows go, `$2`
    /// how many at most; returns how many went.
    pub(crate) fn purge(
        &mut self,
        statement: &str,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        let purged = self.execute(statement, &[&unix_micros(older_than), &i64::from(limit)])?;
        Ok(purged as u64)
    }
}
