//! The one mapping between a `notifications` row and the domain's
//! [`Notification`], for both databases.
//!
//! It works unchanged on both because sqlx decodes the same Rust types from
//! either schema: `Uuid` from `uuid` or a 16-byte BLOB, `OffsetDateTime` from
//! `timestamptz` or RFC 3339 TEXT, `Json` from `jsonb` or TEXT. The SQLite
//! writer's connection (rusqlite) reads the same columns into the same row
//! ([`NotificationRow::from_sqlite`]).

use notification_domain::{
    Notification, NotificationId, RepositoryError, StoredNotification, UserId,
};
use rusqlite::Row;
use serde_json::{Map, Value};
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::read_watermark::ReadWatermark;
use super::sqlite_values::{id_column, json_column, optional_time_column, time_column};

/// The columns every query that reads notifications selects, in
/// [`NotificationRow`]'s order. A macro so that `concat!` can build whole
/// statements from it at compile time.
macro_rules! notification_columns {
    () => {
        "id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at, \
         changed_seq"
    };
}
pub(crate) use notification_columns;

/// A `notifications` row as stored, before the domain checks it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: Uuid,
    user_id: Uuid,
    title: String,
    message: String,
    #[sqlx(rename = "type")]
    notification_type: String,
    status: String,
    metadata: Json<Value>,
    created_at: OffsetDateTime,
    read_at: Option<OffsetDateTime>,
    archived_at: Option<OffsetDateTime>,
    /// The seq of the row's creation or latest status change (see
    /// [`ReadWatermark`]); NULL for rows written before the watermark.
    changed_seq: Option<i64>,
}

/// A row read together with its user's read watermark (the counter's
/// columns, NULL without a counter row), for reads outside the writer.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WatermarkedRow {
    #[sqlx(flatten)]
    row: NotificationRow,
    read_all_seq: Option<i64>,
    read_all_at: Option<OffsetDateTime>,
}

impl WatermarkedRow {
    pub(crate) fn into_notification(self) -> Result<Notification, RepositoryError> {
        let watermark = ReadWatermark::of(self.read_all_seq, self.read_all_at);
        self.row.into_notification(&watermark)
    }
}

impl NotificationRow {
    /// The row as the SQLite writer connection reads it (the columns of
    /// `notification_columns!`, in order).
    pub(crate) fn from_sqlite(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: id_column(row, 0)?,
            user_id: id_column(row, 1)?,
            title: row.get(2)?,
            message: row.get(3)?,
            notification_type: row.get(4)?,
            status: row.get(5)?,
            metadata: Json(json_column(row, 6)?),
            created_at: time_column(row, 7)?,
            read_at: optional_time_column(row, 8)?,
            archived_at: optional_time_column(row, 9)?,
            changed_seq: row.get(10)?,
        })
    }

    /// The notification as its user sees it under `watermark` (a covered
    /// UNREAD row is READ), or `Corrupt` when the stored row's structure is
    /// broken (an unknown status or type, metadata that is not an object).
    /// Length and content rules are not checked again: see
    /// `Notification::restore`.
    pub(crate) fn into_notification(
        self,
        watermark: &ReadWatermark,
    ) -> Result<Notification, RepositoryError> {
        let id = self.id;
        let (status, read_at) =
            watermark.effective_status(&self.status, self.read_at, self.changed_seq)?;
        Notification::restore(StoredNotification {
            id: NotificationId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            title: self.title,
            message: self.message,
            notification_type: self.notification_type,
            status,
            metadata: self.metadata.0,
            created_at: self.created_at,
            read_at,
            archived_at: self.archived_at,
        })
        .map_err(|e| RepositoryError::Corrupt(format!("notification {id}: {e}")))
    }
}

/// Maps every row under `watermark`, failing on the first corrupt one.
pub(crate) fn into_notifications(
    rows: Vec<NotificationRow>,
    watermark: &ReadWatermark,
) -> Result<Vec<Notification>, RepositoryError> {
    rows.into_iter()
        .map(|row| row.into_notification(watermark))
        .collect()
}

/// The metadata as bound for the `metadata` column (`jsonb` or JSON TEXT).
pub(crate) fn metadata_column(notification: &Notification) -> Json<&Map<String, Value>> {
    Json(notification.metadata().as_map())
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{now, NotificationStatus};

    fn row(title: &str, status: &str) -> NotificationRow {
        NotificationRow {
            id: Uuid::now_v7(),
            user_id: Uuid::new_v4(),
            title: title.to_owned(),
            message: "body".to_owned(),
            notification_type: "SUCCESS".to_owned(),
            status: status.to_owned(),
            metadata: Json(serde_json::json!({"order": 42})),
            created_at: now(),
            read_at: None,
            archived_at: None,
            changed_seq: Some(1),
        }
    }

    const NO_READ_ALL: ReadWatermark = ReadWatermark { seq: 0, at: None };

    #[test]
    fn a_valid_row_becomes_its_notification() {
        let notification = row("Paid", "UNREAD")
            .into_notification(&NO_READ_ALL)
            .unwrap();
        assert_eq!(notification.title(), "Paid");
        assert_eq!(notification.status(), NotificationStatus::Unread);
        assert_eq!(notification.metadata().as_map()["order"], 42);
    }

    #[test]
    fn a_row_of_unknown_structure_is_corrupt_and_names_the_notification() {
        let bad = row("Paid", "DONE");
        let id = bad.id;
        match bad.into_notification(&NO_READ_ALL) {
            Err(RepositoryError::Corrupt(message)) => {
                assert!(message.contains(&id.to_string()), "{message}")
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let mut not_an_object = row("Paid", "UNREAD");
        not_an_object.metadata = Json(serde_json::json!([42]));
        assert!(matches!(
            not_an_object.into_notification(&NO_READ_ALL),
            Err(RepositoryError::Corrupt(_))
        ));
    }

    #[test]
    fn a_row_written_under_older_rules_reads_back_as_stored() {
        // Longer than today's limit: a limit tightened after it was written.
        let title = "t".repeat(notification_domain::content::TITLE_MAX_CHARS + 1);
        let notification = row(&title, "UNREAD")
            .into_notification(&NO_READ_ALL)
            .unwrap();
        assert_eq!(notification.title(), title);
    }

    #[test]
    fn an_unread_row_older_than_a_read_all_reads_as_read_at_its_time() {
        let read_at = now();
        let watermark = ReadWatermark {
            seq: 2,
            at: Some(read_at),
        };
        let notification = row("Paid", "UNREAD").into_notification(&watermark).unwrap();
        assert_eq!(notification.status(), NotificationStatus::Read);
        assert_eq!(notification.read_at(), Some(read_at));
    }
}
