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
use uuid::Uuid;

use super::sqlite_values::{hex, id_column, json_text, time_value};
use super::sqlite_writer::SqliteTransaction;
use super::write_batch::BatchStatements;

const INSERT_NOTIFICATIONS: &str = "\
    INSERT INTO notifications \
        (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at) \
    SELECT unhex(value ->> 'id'), unhex(value ->> 'user_id'), value ->> 'title', \
        value ->> 'message', value ->> 'type', value ->> 'status', value ->> 'metadata', \
        value ->> 'created_at', value ->> 'read_at', value ->> 'archived_at' \
    FROM json_each($1)";

/// SQLite has one writer connection: reading the counters is taking them.
const UNREAD_COUNTS: &str = "\
    SELECT user_id, unread_count FROM unread_counters \
    WHERE user_id IN (SELECT unhex(value) FROM json_each($1))";

/// `WHERE true` tells SQLite's parser that `ON CONFLICT` belongs to the
/// INSERT, not to a join of the SELECT.
const SET_UNREAD_COUNTS: &str = "\
    INSERT INTO unread_counters (user_id, unread_count) \
    SELECT unhex(value ->> 0), value ->> 1 FROM json_each($1) WHERE true \
    ON CONFLICT (user_id) DO UPDATE SET unread_count = excluded.unread_count";

#[async_trait]
impl BatchStatements for SqliteTransaction<'_> {
    async fn lock_counters(&mut self, users: &[Uuid]) -> Result<Vec<(Uuid, i64)>, RepositoryError> {
        let users = json_text(&users.iter().map(|u| hex(*u)).collect::<Vec<_>>())?;
        self.query(UNREAD_COUNTS, &[&users], |row| {
            Ok((id_column(row, 0)?, row.get(1)?))
        })
    }

    async fn insert_notifications(
        &mut self,
        batch: &[&Notification],
    ) -> Result<(), RepositoryError> {
        let rows = batch
            .iter()
            .map(|n| JsonRow::of(n))
            .collect::<Result<Vec<_>, _>>()?;
        self.execute(INSERT_NOTIFICATIONS, &[&json_text(&rows)?])?;
        Ok(())
    }

    async fn set_counters(&mut self, counts: &[(Uuid, i64)]) -> Result<(), RepositoryError> {
        let counts: Vec<(String, i64)> = counts.iter().map(|(u, c)| (hex(*u), *c)).collect();
        self.execute(SET_UNREAD_COUNTS, &[&json_text(&counts)?])?;
        Ok(())
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
            metadata: json_text(notification.metadata().as_map())?,
            created_at: time_value(notification.created_at())?,
            read_at: notification.read_at().map(time_value).transpose()?,
            archived_at: notification.archived_at().map(time_value).transpose()?,
        })
    }
}
