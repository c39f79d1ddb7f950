//! A batch of new notifications written to PostgreSQL in one statement,
//! however many it holds.
//!
//! Each column travels as one array parameter and `UNNEST` turns the arrays
//! back into rows, so the statement text never changes with the batch size
//! (prepared once per connection). The rows are inserted by a data-modifying
//! `WITH` and the counters changed by the main statement: one statement is one
//! transaction and one round trip to the server, all or nothing.

use std::sync::Arc;

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use serde_json::{Map, Value};
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::types::Json;
use sqlx::Postgres;
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{is_unavailable, repository_error};
use super::group_commit::BatchInsert;
use super::kept_connections::KeptConnections;
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

/// Writes batches, each on a connection kept from the previous one when
/// there is one (see [`KeptConnections`]).
pub(crate) struct PostgresBatchWriter {
    connections: Arc<KeptConnections>,
}

impl PostgresBatchWriter {
    pub(crate) fn new(connections: Arc<KeptConnections>) -> Self {
        Self { connections }
    }
}

#[async_trait]
impl BatchInsert for PostgresBatchWriter {
    async fn insert_batch(&self, batch: &[Notification]) -> Result<Vec<u64>, RepositoryError> {
        let columns = Columns::of(batch);
        let increments = UnreadIncrements::of(batch);
        let mut checkout = self.connections.take().await.map_err(repository_error)?;
        let mut result = columns
            .query(&increments)
            .fetch_all(&mut *checkout.connection)
            .await;
        if checkout.was_kept && matches!(&result, Err(e) if is_unavailable(e)) {
            // It died while kept; dropping it lets the pool forget it.
            checkout = self
                .connections
                .checked_out_from_pool()
                .await
                .map_err(repository_error)?;
            result = columns
                .query(&increments)
                .fetch_all(&mut *checkout.connection)
                .await;
        }
        let totals: Vec<(Uuid, i64)> = result.map_err(repository_error)?;
        self.connections.keep(checkout.connection);
        increments.counts_after_each(batch, totals)
    }
}

/// The batch as one array per column, in batch order.
struct Columns<'a> {
    ids: Vec<Uuid>,
    user_ids: Vec<Uuid>,
    titles: Vec<&'a str>,
    messages: Vec<&'a str>,
    types: Vec<&'static str>,
    statuses: Vec<&'static str>,
    metadata: Vec<Json<&'a Map<String, Value>>>,
    created_at: Vec<OffsetDateTime>,
    read_at: Vec<Option<OffsetDateTime>>,
    archived_at: Vec<Option<OffsetDateTime>>,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a [Notification]) -> Self {
        Self {
            ids: batch.iter().map(|n| n.id().into_uuid()).collect(),
            user_ids: batch.iter().map(|n| n.user_id().into_uuid()).collect(),
            titles: batch.iter().map(Notification::title).collect(),
            messages: batch.iter().map(Notification::message).collect(),
            types: batch
                .iter()
                .map(|n| n.notification_type().as_str())
                .collect(),
            statuses: batch.iter().map(|n| n.status().as_str()).collect(),
            metadata: batch.iter().map(metadata_column).collect(),
            created_at: batch.iter().map(Notification::created_at).collect(),
            read_at: batch.iter().map(Notification::read_at).collect(),
            archived_at: batch.iter().map(Notification::archived_at).collect(),
        }
    }

    fn query<'q>(
        &'q self,
        increments: &'q UnreadIncrements,
    ) -> QueryAs<'q, Postgres, (Uuid, i64), PgArguments> {
        sqlx::query_as(INSERT_BATCH)
            .bind(&self.ids)
            .bind(&self.user_ids)
            .bind(&self.titles)
            .bind(&self.messages)
            .bind(&self.types)
            .bind(&self.statuses)
            .bind(&self.metadata)
            .bind(&self.created_at)
            .bind(&self.read_at)
            .bind(&self.archived_at)
            .bind(increments.users())
            .bind(increments.amounts())
    }
}
