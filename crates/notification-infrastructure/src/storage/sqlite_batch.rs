//! The statements of a batch on SQLite that take many rows at once
//! ([`BatchStatements`] on the writer connection, see `sqlite_writer`).
//!
//! Rows and counters travel as one JSON array bound to one parameter and are
//! unpacked by `json_each`, so the statement text never changes with the
//! batch size (one prepared statement, cached).
//!
//! Every value is written exactly as sqlx writes it for a single row, so the
//! rows read back the same (see `sqlite_values`): ids as 16-byte BLOBs
//! (`unhex` of the simple hex form), times as RFC 3339 TEXT, metadata as the
//! compact JSON text of the object (carried as a JSON string, so SQLite does
//! not re-render its numbers).

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::change_log::ChangeRow;
use super::sqlite_values::{hex, id_column, json_text, optional_time_column, time_value};
use super::sqlite_writer::SqliteTransaction;
use super::write_batch::{BatchStatements, CounterRow, NewRow};

const INSERT_NOTIFICATIONS: &str = "\
    INSERT INTO notifications \
        (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at, \
         changed_seq) \
    SELECT unhex(value ->> 'id'), unhex(value ->> 'user_id'), value ->> 'title', \
        value ->> 'message', value ->> 'type', value ->> 'status', value ->> 'metadata', \
        value ->> 'created_at', value ->> 'read_at', value ->> 'archived_at', \
        value ->> 'changed_seq' \
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
    SELECT user_id, unread_count, seq, read_all_seq, read_all_at, read_all_pending \
    FROM unread_counters WHERE user_id IN (SELECT unhex(value) FROM json_each($1))";

/// `WHERE true` tells SQLite's parser that `ON CONFLICT` belongs to the
/// INSERT, not to a join of the SELECT.
const SET_UNREAD_COUNTS: &str = "\
    INSERT INTO unread_counters \
        (user_id, unread_count, seq, read_all_seq, read_all_at, read_all_pending) \
    SELECT unhex(value ->> 0), value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
    FROM json_each($1) WHERE true \
    ON CONFLICT (user_id) DO UPDATE \
    SET unread_count = excluded.unread_count, seq = excluded.seq, \
        read_all_seq = excluded.read_all_seq, read_all_at = excluded.read_all_at, \
        read_all_pending = excluded.read_all_pending";

#[async_trait]
impl BatchStatements for SqliteTransaction<'_> {
    async fn lock_counters(&mut self, users: &[Uuid]) -> Result<Vec<CounterRow>, RepositoryError> {
        let users = json_text(&users.iter().map(|u| hex(*u)).collect::<Vec<_>>())?;
        self.query(UNREAD_COUNTS, &[&users], |row| {
            Ok(CounterRow {
                user_id: id_column(row, 0)?,
                unread_count: row.get(1)?,
                seq: row.get(2)?,
                read_all_seq: row.get(3)?,
                read_all_at: optional_time_column(row, 4)?,
                read_all_pending: row.get(5)?,
            })
        })
    }

    async fn write_rows(
        &mut self,
        new: &[NewRow<'_>],
        changes: &[ChangeRow],
        counters: &[CounterRow],
    ) -> Result<(), RepositoryError> {
        if !new.is_empty() {
            let rows = new
                .iter()
                .map(|(n, seq)| JsonRow::of(n, *seq))
                .collect::<Result<Vec<_>, _>>()?;
            self.execute(INSERT_NOTIFICATIONS, &[&json_text(&rows)?])?;
        }
        if !changes.is_empty() {
            let rows = changes
                .iter()
                .map(JsonChange::of)
                .collect::<Result<Vec<_>, _>>()?;
            self.execute(INSERT_CHANGES, &[&json_text(&rows)?])?;
        }
        if !counters.is_empty() {
            let counters = counters
                .iter()
                .map(|c| {
                    Ok((
                        hex(c.user_id),
                        c.unread_count,
                        c.seq,
                        c.read_all_seq,
                        c.read_all_at.map(time_value).transpose()?,
                        i64::from(c.read_all_pending),
                    ))
                })
                .collect::<Result<Vec<_>, RepositoryError>>()?;
            self.execute(SET_UNREAD_COUNTS, &[&json_text(&counters)?])?;
        }
        Ok(())
    }

    async fn purge_changes(
        &mut self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.purge(PURGE_CHANGES, older_than, limit)
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
            changed_at: change.changed_at.map(time_value).transpose()?,
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
    changed_seq: i64,
}

impl<'a> JsonRow<'a> {
    fn of(notification: &'a Notification, changed_seq: i64) -> Result<Self, RepositoryError> {
        Ok(Self {
            id: hex(notification.id().into_uuid()),
            user_id: hex(notification.user_id().into_uuid()),
            title: notification.title(),
            message: notification.message(),
            notification_type: notification.notification_type().as_str(),
            status: notification.status().as_str(),
            metadata: json_text(notification.metadata().as_map())?,
            created_at: time_value(notification.created_at())?,
            read_at: notification.read_at().map(time_value).transpose()?,
            archived_at: notification.archived_at().map(time_value).transpose()?,
            changed_seq,
        })
    }
}
