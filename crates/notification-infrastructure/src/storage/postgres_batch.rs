//! A batch of new notifications written to PostgreSQL in one statement,
//! however many it holds.
//!
//! Each column travels as one array parameter and `UNNEST` turns the arrays
//! back into rows, so the statement text never changes with the batch size
//! (prepared once per connection). The rows are inserted by a data-modifying
//! `WITH` and the counters changed by the main statement: one statement is one
//! transaction and one round trip to the server, all or nothing.

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use super::error::repository_error;
use super::group_commit::BatchInsert;
use super::row::metadata_column;
use super::unread_increments::UnreadIncrements;

/// Counters are changed in the order of `$11`, ascending user ids (see
/// [`UnreadIncrements`]), after the rows, like every other write.
const INSERT_BATCH: &str = "\
    WITH inserted AS ( \
        INSERT INTO notifications \
            (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at) \
        SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
            $6::text[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[]) \
    ) \
    INSERT INTO unread_counters (user_id, unread_count) \
    SELECT * FROM UNNEST($11::uuid[], $12::int8[]) \
    ON CONFLICT (user_id) DO UPDATE \
    SET unread_count = unread_counters.unread_count + excluded.unread_count \
    RETURNING user_id, unread_count";

/// Writes batches through the pool.
pub(crate) struct PostgresBatchWriter(pub(crate) PgPool);

#[async_trait]
impl BatchInsert for PostgresBatchWriter {
    async fn insert_batch(&self, batch: &[Notification]) -> Result<Vec<u64>, RepositoryError> {
        let ids: Vec<Uuid> = batch.iter().map(|n| n.id().into_uuid()).collect();
        let user_ids: Vec<Uuid> = batch.iter().map(|n| n.user_id().into_uuid()).collect();
        let titles: Vec<&str> = batch.iter().map(Notification::title).collect();
        let messages: Vec<&str> = batch.iter().map(Notification::message).collect();
        let types: Vec<&str> = batch
            .iter()
            .map(|n| n.notification_type().as_str())
            .collect();
        let statuses: Vec<&str> = batch.iter().map(|n| n.status().as_str()).collect();
        let metadata: Vec<Json<_>> = batch.iter().map(metadata_column).collect();
        let created_at: Vec<_> = batch.iter().map(Notification::created_at).collect();
        let read_at: Vec<_> = batch.iter().map(Notification::read_at).collect();
        let archived_at: Vec<_> = batch.iter().map(Notification::archived_at).collect();
        let increments = UnreadIncrements::of(batch);

        let totals: Vec<(Uuid, i64)> = sqlx::query_as(INSERT_BATCH)
            .bind(ids)
            .bind(user_ids)
            .bind(titles)
            .bind(messages)
            .bind(types)
            .bind(statuses)
            .bind(metadata)
            .bind(created_at)
            .bind(read_at)
            .bind(archived_at)
            .bind(increments.users())
            .bind(increments.amounts())
            .fetch_all(&self.0)
            .await
            .map_err(repository_error)?;
        increments.counts_after_each(batch, totals)
    }
}
