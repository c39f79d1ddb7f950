//! A batch of writes on SQLite: one transaction on the one writer
//! connection, with the statements that take many rows at once written for
//! SQLite.
//!
//! Rows and counters travel as one JSON array bound to one parameter and are
//! unpacked by `json_each`, so the statement text never changes with the
//! batch size (one prepared statement, cached) and SQLite's worker thread is
//! handed a whole run of rows at once.
//!
//! Every value is written exactly as sqlx writes it for a single row
//! (`super::sql_repository::INSERT_NOTIFICATION`), so the rows read back the
//! same: ids as 16-byte BLOBs (`unhex` of the simple hex form), times as
//! RFC 3339 TEXT, metadata as the compact JSON text of the object (carried as
//! a JSON string, so SQLite does not re-render its numbers).

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use serde::Serialize;
use sqlx::{Connection, Sqlite, SqlitePool, Transaction};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::change_log::ChangeRow;
use super::error::repository_error;
use super::group_commit::BatchWrite;
use super::sql_statements::purge;
use super::write::{Write, Written};
use super::write_batch::{apply, BatchStatements, CounterRow};

const INSERT_NOTIFICATIONS: &str = "\
    INSERT INTO notifications \
        (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at) \
    SELECT unhex(value ->> 'id'), unhex(value ->> 'user_id'), value ->> 'title', \
        value ->> 'message', value ->> 'type', value ->> 'status', value ->> 'metadata', \
        value ->> 'created_at', value ->> 'read_at', value ->> 'archived_at' \
    FROM json_each($1)";

/// The change log's rows; a create's content is copied from the
/// notification row inserted just before (by primary key), so it travels
/// once.
const INSERT_CHANGES: &str = "\
    INSERT INTO notification_changes \
        (user_id, seq, kind, notification_id, unread_count, occurred_at_micros, changed_at, \
         updated, title, message, type, metadata, created_at) \
    SELECT unhex(c.value ->> 'user_id'), c.value ->> 'seq', c.value ->> 'kind', \
        unhex(c.value ->> 'notification_id'), c.value ->> 'unread_count', \
        c.value ->> 'occurred_at_micros', c.value ->> 'changed_at', c.value ->> 'updated', \
        n.title, n.message, n.type, n.metadata, n.created_at \
    FROM json_each($1) AS c LEFT JOIN notifications AS n \
        ON c.value ->> 'kind' = 'created' AND n.id = unhex(c.value ->> 'notification_id')";

/// Deletes, of the `$2` oldest log rows, those of changes made before `$1`.
/// The oldest by rowid, the order the one writer wrote them in: no index on
/// the time to keep up at every commit. A row not yet expired among them
/// (the clock went back) makes the chunk short, which ends the purge until
/// the next tick.
const PURGE_CHANGES: &str = "\
    DELETE FROM notification_changes WHERE rowid IN ( \
        SELECT rowid FROM notification_changes ORDER BY rowid LIMIT $2) \
    AND occurred_at_micros < $1";

/// SQLite has one writer connection: reading the counters is taking them.
const UNREAD_COUNTS: &str = "\
    SELECT user_id, unread_count, seq FROM unread_counters \
    WHERE user_id IN (SELECT unhex(value) FROM json_each($1))";

/// `WHERE true` tells SQLite's parser that `ON CONFLICT` belongs to the
/// INSERT, not to a join of the SELECT.
const SET_UNREAD_COUNTS: &str = "\
    INSERT INTO unread_counters (user_id, unread_count, seq) \
    SELECT unhex(value ->> 0), value ->> 1, value ->> 2 FROM json_each($1) WHERE true \
    ON CONFLICT (user_id) DO UPDATE \
    SET unread_count = excluded.unread_count, seq = excluded.seq";

/// Writes batches through the one writer connection.
pub(crate) struct SqliteBatchWriter(pub(crate) SqlitePool);

#[async_trait]
impl BatchWrite for SqliteBatchWriter {
    async fn write_batch(&self, batch: &[Write]) -> Result<Vec<Written>, RepositoryError> {
        let mut writer = self.0.acquire().await.map_err(repository_error)?;
        // IMMEDIATE: the write lock from the start. A deferred transaction
        // that reads first would fail at once (not wait) on its first write
        // if another process wrote in between.
        let mut tx = writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(repository_error)?;
        // Dropping `tx` on an error rolls everything back: the batch is all
        // or nothing, and the commit is its last step.
        let written = apply(&mut tx, batch).await?;
        tx.commit().await.map_err(repository_error)?;
        Ok(written)
    }
}

#[async_trait]
impl BatchStatements for Transaction<'_, Sqlite> {
    async fn lock_counters(&mut self, users: &[Uuid]) -> Result<Vec<CounterRow>, RepositoryError> {
        let users = to_json(&users.iter().map(|u| hex(*u)).collect::<Vec<_>>())?;
        sqlx::query_as(UNREAD_COUNTS)
            .bind(users)
            .fetch_all(&mut **self)
            .await
            .map_err(repository_error)
    }

    async fn write_rows(
        &mut self,
        new: &[&Notification],
        changes: &[ChangeRow],
        counters: &[CounterRow],
    ) -> Result<(), RepositoryError> {
        if !new.is_empty() {
            let rows = new
                .iter()
                .map(|n| JsonRow::of(n))
                .collect::<Result<Vec<_>, _>>()?;
            self.run(INSERT_NOTIFICATIONS, to_json(&rows)?).await?;
        }
        if !changes.is_empty() {
            let rows = changes
                .iter()
                .map(JsonChange::of)
                .collect::<Result<Vec<_>, _>>()?;
            self.run(INSERT_CHANGES, to_json(&rows)?).await?;
        }
        if !counters.is_empty() {
            let counters: Vec<(String, i64, i64)> = counters
                .iter()
                .map(|(user, count, seq)| (hex(*user), *count, *seq))
                .collect();
            self.run(SET_UNREAD_COUNTS, to_json(&counters)?).await?;
        }
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

/// Runs one of this module's statements, whose one parameter is a JSON array.
#[async_trait]
trait RunJson {
    async fn run(&mut self, statement: &'static str, rows: String) -> Result<(), RepositoryError>;
}

#[async_trait]
impl RunJson for Transaction<'_, Sqlite> {
    async fn run(&mut self, statement: &'static str, rows: String) -> Result<(), RepositoryError> {
        sqlx::query(statement)
            .bind(rows)
            .execute(&mut **self)
            .await
            .map_err(repository_error)?;
        Ok(())
    }
}

/// One change log row as an element of the JSON array.
#[derive(Serialize)]
struct JsonChange {
    user_id: String,
    seq: i64,
    kind: &'static str,
    notification_id: Option<String>,
    unread_count: i64,
    occurred_at_micros: i64,
    changed_at: Option<String>,
    updated: Option<i64>,
}

impl JsonChange {
    fn of(change: &ChangeRow) -> Result<Self, RepositoryError> {
        Ok(Self {
            user_id: hex(change.user_id),
            seq: change.seq,
            kind: change.kind.as_str(),
            notification_id: change.notification_id.map(hex),
            unread_count: change.unread_count,
            occurred_at_micros: change.occurred_at_micros,
            changed_at: change.changed_at.map(rfc3339).transpose()?,
            updated: change.updated,
        })
    }
}

/// One notification as an element of the JSON array.
#[derive(Serialize)]
struct JsonRow<'a> {
    id: String,
    user_id: String,
    title: &'a str,
    message: &'a str,
    #[serde(rename = "type")]
    notification_type: &'static str,
    status: &'static str,
    metadata: String,
    created_at: String,
    read_at: Option<String>,
    archived_at: Option<String>,
}

impl<'a> JsonRow<'a> {
    fn of(notification: &'a Notification) -> Result<Self, RepositoryError> {
        Ok(Self {
            id: hex(notification.id().into_uuid()),
            user_id: hex(notification.user_id().into_uuid()),
            title: notification.title(),
            message: notification.message(),
            notification_type: notification.notification_type().as_str(),
            status: notification.status().as_str(),
            metadata: to_json(notification.metadata().as_map())?,
            created_at: rfc3339(notification.created_at())?,
            read_at: notification.read_at().map(rfc3339).transpose()?,
            archived_at: notification.archived_at().map(rfc3339).transpose()?,
        })
    }
}

/// The 32 hex digits that `unhex` turns into the UUID's 16 bytes.
fn hex(id: Uuid) -> String {
    id.simple().to_string()
}

/// The TEXT sqlx writes for an `OffsetDateTime` on SQLite.
fn rfc3339(at: OffsetDateTime) -> Result<String, RepositoryError> {
    at.format(&Rfc3339)
        .map_err(|e| RepositoryError::Other(Box::new(e)))
}

fn to_json(value: &impl Serialize) -> Result<String, RepositoryError> {
    serde_json::to_string(value).map_err(|e| RepositoryError::Other(Box::new(e)))
}
