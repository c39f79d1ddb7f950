//! A batch of new notifications written to SQLite with two statements,
//! however many it holds.
//!
//! The rows travel as one JSON array bound to one parameter and are unpacked
//! by `json_each`, so the statement text never changes with the batch size
//! (one prepared statement, cached) and SQLite's worker thread is handed the
//! whole batch at once. They are inserted into the view `new_notifications`,
//! whose trigger stores each row and counts it (migration
//! `20260103000000_create_new_notifications_view.sql`): one statement, hence
//! one transaction, all or nothing. The counters are read just before, on
//! the same connection, the only one that writes, so the counts right after
//! the batch are those plus what the batch adds.
//!
//! Every value is written exactly as sqlx writes it for a single row
//! (`super::sql_repository::INSERT_NOTIFICATION`), so the rows read back the
//! same: ids as 16-byte BLOBs (`unhex` of the simple hex form), times as
//! RFC 3339 TEXT, metadata as the compact JSON text of the object (carried as
//! a JSON string, so SQLite does not re-render its numbers).

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use serde::Serialize;
use sqlx::SqlitePool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::repository_error;
use super::group_commit::BatchInsert;
use super::unread_increments::UnreadIncrements;

const INSERT_NOTIFICATIONS: &str = "\
    INSERT INTO new_notifications \
        (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at) \
    SELECT unhex(value ->> 'id'), unhex(value ->> 'user_id'), value ->> 'title', \
        value ->> 'message', value ->> 'type', value ->> 'status', value ->> 'metadata', \
        value ->> 'created_at', value ->> 'read_at', value ->> 'archived_at' \
    FROM json_each($1)";

const UNREAD_COUNTS: &str = "\
    SELECT user_id, unread_count FROM unread_counters \
    WHERE user_id IN (SELECT unhex(value) FROM json_each($1))";

/// Writes batches through the one writer connection.
pub(crate) struct SqliteBatchWriter(pub(crate) SqlitePool);

#[async_trait]
impl BatchInsert for SqliteBatchWriter {
    async fn insert_batch(&self, batch: &[Notification]) -> Result<Vec<u64>, RepositoryError> {
        let rows = to_json(
            &batch
                .iter()
                .map(JsonRow::of)
                .collect::<Result<Vec<_>, _>>()?,
        )?;
        let increments = UnreadIncrements::of(batch);
        let users = to_json(
            &increments
                .users()
                .iter()
                .map(|u| hex(*u))
                .collect::<Vec<_>>(),
        )?;

        // Both statements on one connection: the writer pool has only this
        // one, so no other write comes between them. The counts are read
        // before the batch, not after: the INSERT is the batch's only write
        // and its last statement, so when anything fails nothing is stored,
        // and the batch can be written again row by row without meeting its
        // own duplicates. (Read after the commit, a failed read used to leave
        // a stored batch answered as failed, and its retry fail on the rows
        // it had stored.)
        let mut writer = self.0.acquire().await.map_err(repository_error)?;
        let before: Vec<(Uuid, i64)> = sqlx::query_as(UNREAD_COUNTS)
            .bind(users)
            .fetch_all(&mut *writer)
            .await
            .map_err(repository_error)?;
        sqlx::query(INSERT_NOTIFICATIONS)
            .bind(rows)
            .execute(&mut *writer)
            .await
            .map_err(repository_error)?;
        let totals = increments.totals_after(before);
        increments.counts_after_each(batch, totals)
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
