//! A batch of writes on PostgreSQL: one transaction, on a connection kept
//! from the previous batch when there is one, with the statements that take
//! many rows at once written for PostgreSQL.
//!
//! Each column travels as one array parameter and `UNNEST` turns the arrays
//! back into rows, so the statement text never changes with the batch size
//! (prepared once per connection).

use std::sync::Arc;

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use serde_json::{Map, Value};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::change_log::ChangeRow;
use super::error::{is_unavailable, repository_error};
use super::group_commit::BatchWrite;
use super::kept_connections::KeptConnections;
use super::postgres_creates::{plain_creates, write_creates};
use super::row::metadata_column;
use super::sql_statements::purge;
use super::write::{Write, Written};
use super::write_batch::{apply, BatchStatements, CounterRow, NewRow};

/// The new notifications, the change log's rows and the counters, in one
/// statement (one round trip): a create's log row takes its content from
/// the row the first part inserts (`RETURNING`), so the content travels once.
/// Every counter exists and is held (see [`LOCK_COUNTERS`]), so the upsert
/// always updates; it is an upsert because PostgreSQL's cached generic plan
/// of `UPDATE … FROM UNNEST` joined the arrays against every counter (a
/// sequential scan per batch, measured: docs/benchmarks/halve-the-cost-postgres.md),
/// while the conflict check looks each user up by its key. A new row's
/// `changed_seq` (its create's seq) is the last parameter, `$25`.
const WRITE_ROWS: &str = "\
    WITH new AS ( \
        INSERT INTO notifications \
            (id, user_id, title, message, type, status, metadata, created_at, read_at, \
             archived_at, changed_seq) \
        SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
            $6::text[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], \
            $25::int8[]) \
        RETURNING id, title, message, type, metadata, created_at \
    ), logged AS ( \
        INSERT INTO notification_changes \
            (user_id, seq, kind, notification_id, unread_count, occurred_at_micros, \
             changed_at, updated, title, message, type, metadata, created_at) \
        SELECT c.user_id, c.seq, c.kind, c.notification_id, c.unread_count, \
            c.occurred_at_micros, c.changed_at, c.updated, \
            new.title, new.message, new.type, new.metadata, new.created_at \
        FROM UNNEST($11::uuid[], $12::int8[], $13::text[], $14::uuid[], $15::int8[], \
            $16::int8[], $17::timestamptz[], $18::int8[]) \
            AS c (user_id, seq, kind, notification_id, unread_count, occurred_at_micros, \
                  changed_at, updated) \
        LEFT JOIN new ON c.kind = 'created' AND new.id = c.notification_id \
    ) \
    INSERT INTO unread_counters \
        (user_id, unread_count, seq, read_all_seq, read_all_at, read_all_pending) \
    SELECT * FROM UNNEST($19::uuid[], $20::int8[], $21::int8[], $22::int8[], \
        $23::timestamptz[], $24::bool[]) \
    ON CONFLICT (user_id) DO UPDATE SET unread_count = EXCLUDED.unread_count, \
        seq = EXCLUDED.seq, read_all_seq = EXCLUDED.read_all_seq, \
        read_all_at = EXCLUDED.read_all_at, read_all_pending = EXCLUDED.read_all_pending";

/// Takes every counter of the batch, in ascending user order (the order of
/// `$1`: an INSERT … SELECT handles rows in the order the SELECT yields
/// them), creating those missing so that a user's first write is serialized
/// like the others; returns every count. The no-op update is what locks an
/// existing row.
const LOCK_COUNTERS: &str = "\
    INSERT INTO unread_counters (user_id, unread_count) \
    SELECT user_id, 0 FROM UNNEST($1::uuid[]) AS batch (user_id) ORDER BY user_id \
    ON CONFLICT (user_id) DO UPDATE SET unread_count = unread_counters.unread_count \
    RETURNING user_id, unread_count, seq, read_all_seq, read_all_at, read_all_pending";

/// Deletes up to `$2` log rows of changes made before `$1`, the oldest first
/// (a bounded chunk, chosen like `PURGE_KEYS`'s, on the age index: several
/// nodes write, so insertion order is not time order).
const PURGE_CHANGES: &str = "\
    DELETE FROM notification_changes WHERE (user_id, seq) IN ( \
        SELECT user_id, seq FROM notification_changes \
        WHERE occurred_at_micros < $1 ORDER BY occurred_at_micros LIMIT $2)";

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
impl BatchWrite for PostgresBatchWriter {
    async fn write_batch(&self, batch: &[Write]) -> Result<Vec<Written>, RepositoryError> {
        let mut checkout = self.connections.take().await.map_err(repository_error)?;
        let mut result = write_on(&mut checkout.connection, batch).await;
        if checkout.was_kept && matches!(&result, Err(e) if is_unavailable(e)) {
            // It died while kept (its BEGIN failed, nothing was written);
            // dropping it lets the pool forget it.
            checkout = self
                .connections
                .checked_out_from_pool()
                .await
                .map_err(repository_error)?;
            result = write_on(&mut checkout.connection, batch).await;
        }
        let written = result.map_err(repository_error)??;
        self.connections.keep(checkout.connection);
        Ok(written)
    }
}

/// The batch on `connection`: plain creates in one statement
/// (`postgres_creates`), anything else in one transaction. The outer error
/// is the connection failing before anything was written.
async fn write_on(
    connection: &mut PgConnection,
    batch: &[Write],
) -> Result<Result<Vec<Written>, RepositoryError>, sqlx::Error> {
    if let Some(notifications) = plain_creates(batch) {
        return match write_creates(connection, batch, &notifications).await {
            // A kept connection that died while idle fails here too; the
            // caller then writes the batch once more on a checked one. Had
            // the statement committed before the connection died, the retry
            // would fail on the notifications' ids: never stored twice.
            Err(error) if is_unavailable(&error) => Err(error),
            Err(error) => Ok(Err(repository_error(error))),
            Ok(written) => Ok(written),
        };
    }
    let mut tx = connection.begin().await?;
    let written = match apply(&mut tx, batch).await {
        Ok(written) => written,
        // Dropping `tx` rolls it back.
        Err(error) => return Ok(Err(error)),
    };
    Ok(tx
        .commit()
        .await
        .map_err(repository_error)
        .map(|()| written))
}

#[async_trait]
impl BatchStatements for Transaction<'_, Postgres> {
    async fn lock_counters(&mut self, users: &[Uuid]) -> Result<Vec<CounterRow>, RepositoryError> {
        sqlx::query_as(LOCK_COUNTERS)
            .bind(users)
            .fetch_all(&mut **self)
            .await
            .map_err(repository_error)
    }

    async fn write_rows(
        &mut self,
        new: &[NewRow<'_>],
        changes: &[ChangeRow],
        counters: &[CounterRow],
    ) -> Result<(), RepositoryError> {
        let notifications: Vec<&Notification> = new.iter().map(|(n, _)| *n).collect();
        let notifications = Columns::of(&notifications);
        let changed_seqs: Vec<i64> = new.iter().map(|(_, seq)| *seq).collect();
        let changes = ChangeColumns::of(changes);
        let counters = CounterColumns::of(counters);
        counters
            .bind_to(changes.bind_to(notifications.bind_to(sqlx::query(WRITE_ROWS))))
            .bind(&changed_seqs)
            .execute(&mut **self)
            .await
            .map_err(repository_error)?;
        Ok(())
    }

    async fn purge_changes(
        &mut self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        purge(self, PURGE_CHANGES, older_than, limit).await
    }
}

/// The log rows as one array per column, in batch order.
struct ChangeColumns {
    user_ids: Vec<Uuid>,
    seqs: Vec<i64>,
    kinds: Vec<&'static str>,
    notification_ids: Vec<Option<Uuid>>,
    unread_counts: Vec<i64>,
    occurred_at_micros: Vec<i64>,
    changed_at: Vec<Option<OffsetDateTime>>,
    updated: Vec<Option<i64>>,
}

impl ChangeColumns {
    fn of(changes: &[ChangeRow]) -> Self {
        Self {
            user_ids: changes.iter().map(|c| c.user_id).collect(),
            seqs: changes.iter().map(|c| c.seq).collect(),
            kinds: changes.iter().map(|c| c.kind.as_str()).collect(),
            notification_ids: changes.iter().map(|c| c.notification_id).collect(),
            unread_counts: changes.iter().map(|c| c.unread_count).collect(),
            occurred_at_micros: changes.iter().map(|c| c.occurred_at_micros).collect(),
            changed_at: changes.iter().map(|c| c.changed_at).collect(),
            updated: changes.iter().map(|c| c.updated).collect(),
        }
    }

    fn bind_to<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(&self.user_ids)
            .bind(&self.seqs)
            .bind(&self.kinds)
            .bind(&self.notification_ids)
            .bind(&self.unread_counts)
            .bind(&self.occurred_at_micros)
            .bind(&self.changed_at)
            .bind(&self.updated)
    }
}

/// The counters as one array per column, in ascending user order.
struct CounterColumns {
    user_ids: Vec<Uuid>,
    unread_counts: Vec<i64>,
    seqs: Vec<i64>,
    read_all_seqs: Vec<i64>,
    read_all_at: Vec<Option<OffsetDateTime>>,
    read_all_pending: Vec<bool>,
}

impl CounterColumns {
    fn of(counters: &[CounterRow]) -> Self {
        Self {
            user_ids: counters.iter().map(|c| c.user_id).collect(),
            unread_counts: counters.iter().map(|c| c.unread_count).collect(),
            seqs: counters.iter().map(|c| c.seq).collect(),
            read_all_seqs: counters.iter().map(|c| c.read_all_seq).collect(),
            read_all_at: counters.iter().map(|c| c.read_all_at).collect(),
            read_all_pending: counters.iter().map(|c| c.read_all_pending).collect(),
        }
    }

    fn bind_to<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(&self.user_ids)
            .bind(&self.unread_counts)
            .bind(&self.seqs)
            .bind(&self.read_all_seqs)
            .bind(&self.read_all_at)
            .bind(&self.read_all_pending)
    }
}

/// New notifications as one array per column, in batch order: `$1`–`$10`
/// of both statements that insert them.
pub(crate) struct Columns<'a> {
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
    pub(crate) fn of(batch: &[&'a Notification]) -> Self {
        Self {
            ids: batch.iter().map(|n| n.id().into_uuid()).collect(),
            user_ids: batch.iter().map(|n| n.user_id().into_uuid()).collect(),
            titles: batch.iter().map(|n| n.title()).collect(),
            messages: batch.iter().map(|n| n.message()).collect(),
            types: batch
                .iter()
                .map(|n| n.notification_type().as_str())
                .collect(),
            statuses: batch.iter().map(|n| n.status().as_str()).collect(),
            metadata: batch.iter().map(|n| metadata_column(n)).collect(),
            created_at: batch.iter().map(|n| n.created_at()).collect(),
            read_at: batch.iter().map(|n| n.read_at()).collect(),
            archived_at: batch.iter().map(|n| n.archived_at()).collect(),
        }
    }

    pub(crate) fn bind_to<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        query
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
    }
}
