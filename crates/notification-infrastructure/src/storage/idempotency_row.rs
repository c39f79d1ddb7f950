//! The one mapping between an `idempotency_keys` row and the domain's
//! [`IdempotencyRecord`] (a single create's key) or
//! [`BatchIdempotencyRecord`] (a batch's key, whose list is the row's
//! `batch_items`), for both databases (see the migrations for the table and
//! why its time is an integer).

use notification_domain::{
    BatchIdempotencyRecord, IdempotencyRecord, Notification, NotificationId, NotificationStatus,
    RepositoryError, RequestFingerprint, StoredNotification, UserId,
};
use rusqlite::Row;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::sqlite_values::{id_column, json_column};

/// The columns [`IdempotencyRow`] reads, in its order.
macro_rules! idempotency_columns {
    () => {
        "fingerprint, notification_id, user_id, title, message, type, metadata, created_at_micros, \
         batch_items"
    };
}
pub(crate) use idempotency_columns;

/// An `idempotency_keys` row as stored, before the domain checks it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    fingerprint: Vec<u8>,
    notification_id: Uuid,
    user_id: Uuid,
    title: String,
    message: String,
    #[sqlx(rename = "type")]
    notification_type: String,
    metadata: Json<Value>,
    created_at_micros: i64,
    /// A batch's list (`Snapshot`s); `None` for a single create's key.
    batch_items: Option<Json<Value>>,
}

impl IdempotencyRow {
    /// The row as the SQLite writer connection reads it (the columns of
    /// `idempotency_columns!`, in order).
    pub(crate) fn from_sqlite(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            fingerprint: row.get(0)?,
            notification_id: id_column(row, 1)?,
            user_id: id_column(row, 2)?,
            title: row.get(3)?,
            message: row.get(4)?,
            notification_type: row.get(5)?,
            metadata: Json(json_column(row, 6)?),
            created_at_micros: row.get(7)?,
            batch_items: row
                .get::<_, Option<String>>(8)?
                .map(|_| json_column(row, 8))
                .transpose()?
                .map(Json),
        })
    }

    /// The record as a batch sees it: a batch's list, or the one
    /// notification of a single create's key.
    pub(crate) fn into_batch_record(mut self) -> Result<BatchIdempotencyRecord, RepositoryError> {
        let items = self.batch_items.take();
        let record = self.into_record()?;
        let notifications = match items {
            None => vec![record.notification],
            Some(Json(items)) => {
                let id = record.notification.id();
                let corrupt = |what: String| {
                    RepositoryError::Corrupt(format!(
                        "idempotency record of batch starting with {id}: {what}"
                    ))
                };
                let items: Vec<Snapshot> =
                    serde_json::from_value(items).map_err(|e| corrupt(e.to_string()))?;
                items
                    .into_iter()
                    .map(|item| item.into_notification().map_err(&corrupt))
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(BatchIdempotencyRecord {
            fingerprint: record.fingerprint,
            notifications,
        })
    }

    /// The record, or `Corrupt` when the stored row is not one (see
    /// `Notification::restore`: structure only). For a batch's key: its first
    /// notification, with the batch's fingerprint (which no single create
    /// has, so a single create with that key is refused).
    pub(crate) fn into_record(self) -> Result<IdempotencyRecord, RepositoryError> {
        let id = self.notification_id;
        let corrupt = |what: String| {
            RepositoryError::Corrupt(format!("idempotency record of notification {id}: {what}"))
        };
        let fingerprint = RequestFingerprint::from_slice(&self.fingerprint)
            .ok_or_else(|| corrupt(format!("fingerprint of {} bytes", self.fingerprint.len())))?;
        let notification = Snapshot {
            id: self.notification_id,
            user_id: self.user_id,
            title: self.title,
            message: self.message,
            notification_type: self.notification_type,
            metadata: self.metadata.0,
            created_at_micros: self.created_at_micros,
        }
        .into_notification()
        .map_err(corrupt)?;
        Ok(IdempotencyRecord {
            fingerprint,
            notification,
        })
    }
}

/// A notification as a key keeps it (a row's columns, or one element of a
/// batch's `batch_items`): what a new notification has, UNREAD and never
/// read or archived, so no status or times but its creation.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    id: Uuid,
    user_id: Uuid,
    title: String,
    message: String,
    #[serde(rename = "type")]
    notification_type: String,
    metadata: Value,
    created_at_micros: i64,
}

impl Snapshot {
    fn of(notification: &Notification) -> Self {
        Self {
            id: notification.id().into_uuid(),
            user_id: notification.user_id().into_uuid(),
            title: notification.title().to_owned(),
            message: notification.message().to_owned(),
            notification_type: notification.notification_type().as_str().to_owned(),
            metadata: Value::Object(notification.metadata().as_map().clone()),
            created_at_micros: unix_micros(notification.created_at()),
        }
    }

    /// The notification, or what is wrong with the snapshot (structure
    /// only, see `Notification::restore`).
    fn into_notification(self) -> Result<Notification, String> {
        let created_at = from_unix_micros(self.created_at_micros)
            .ok_or_else(|| format!("time {} out of range", self.created_at_micros))?;
        Notification::restore(StoredNotification {
            id: NotificationId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            title: self.title,
            message: self.message,
            notification_type: self.notification_type,
            status: NotificationStatus::Unread.as_str().to_owned(),
            metadata: self.metadata,
            created_at,
            read_at: None,
            archived_at: None,
        })
        .map_err(|e| format!("notification {}: {e}", self.id))
    }
}

/// The `batch_items` value of a batch's key: its notifications, in order.
pub(crate) fn batch_items(notifications: &[Notification]) -> Result<Value, RepositoryError> {
    let items: Vec<Snapshot> = notifications.iter().map(Snapshot::of).collect();
    serde_json::to_value(items).map_err(|e| RepositoryError::Other(Box::new(e)))
}

/// `at` in whole microseconds since the Unix epoch (the domain keeps no finer
/// precision). Every `OffsetDateTime` (years ±9999) fits in an `i64` of
/// microseconds, so the saturation never happens.
pub(crate) fn unix_micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_unix_micros(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{now, NotificationDraft};
    use serde_json::json;
    use time::macros::datetime;

    fn new_notification() -> Notification {
        let draft = NotificationDraft::parse(
            UserId::from_uuid(Uuid::now_v7()),
            "Paid",
            "body",
            None,
            Some(json!({"order": 42})),
        )
        .unwrap();
        Notification::new(draft, NotificationId::new(), now())
    }

    fn row_of(notification: &Notification, fingerprint: Vec<u8>) -> IdempotencyRow {
        IdempotencyRow {
            fingerprint,
            notification_id: notification.id().into_uuid(),
            user_id: notification.user_id().into_uuid(),
            title: notification.title().to_owned(),
            message: notification.message().to_owned(),
            notification_type: notification.notification_type().as_str().to_owned(),
            metadata: Json(Value::Object(notification.metadata().as_map().clone())),
            created_at_micros: unix_micros(notification.created_at()),
            batch_items: None,
        }
    }

    #[test]
    fn a_batch_row_reads_back_as_its_list_and_a_single_row_as_a_list_of_one() {
        let (first, second) = (new_notification(), new_notification());
        let batch = vec![first.clone(), second];
        let mut row = row_of(&first, vec![7; 32]);
        row.batch_items = Some(Json(batch_items(&batch).unwrap()));
        let record = row.into_batch_record().unwrap();
        assert_eq!(record.notifications, batch);

        let single = row_of(&first, vec![7; 32]).into_batch_record().unwrap();
        assert_eq!(single.notifications, vec![first]);
    }

    #[test]
    fn a_batch_row_with_a_broken_list_is_corrupt() {
        let notification = new_notification();
        let mut row = row_of(&notification, vec![7; 32]);
        row.batch_items = Some(Json(serde_json::json!([{"id": "nope"}])));
        assert!(matches!(
            row.into_batch_record(),
            Err(RepositoryError::Corrupt(_))
        ));
    }

    #[test]
    fn microseconds_round_trip_exactly_and_drop_nothing_the_domain_keeps() {
        for at in [
            datetime!(2025-12-31 18:00:00.123_456 UTC),
            datetime!(1969-12-31 23:59:59.999_999 UTC),
            now(),
        ] {
            assert_eq!(from_unix_micros(unix_micros(at)), Some(at));
        }
        assert_eq!(unix_micros(datetime!(1970-01-01 00:00:01 UTC)), 1_000_000);
    }

    #[test]
    fn a_row_reads_back_as_the_notification_it_snapshots() {
        let notification = new_notification();
        let record = row_of(&notification, vec![7; 32]).into_record().unwrap();
        assert_eq!(record.notification, notification);
        assert_eq!(record.fingerprint.as_bytes(), &[7; 32]);
    }

    #[test]
    fn a_row_with_a_bad_fingerprint_or_type_is_corrupt() {
        let notification = new_notification();
        assert!(matches!(
            row_of(&notification, vec![7; 31]).into_record(),
            Err(RepositoryError::Corrupt(_))
        ));
        let mut bad_type = row_of(&notification, vec![7; 32]);
        bad_type.notification_type = "URGENT".to_owned();
        assert!(matches!(
            bad_type.into_record(),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
