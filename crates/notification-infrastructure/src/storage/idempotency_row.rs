//! The one mapping between an `idempotency_keys` row and the domain's
//! [`IdempotencyRecord`], for both databases (see the migrations for the
//! table and why its time is an integer).

use notification_domain::{
    IdempotencyRecord, Notification, NotificationId, NotificationStatus, RepositoryError,
    RequestFingerprint, StoredNotification, UserId,
};
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns [`IdempotencyRow`] reads, in its order.
macro_rules! idempotency_columns {
    () => {
        "fingerprint, notification_id, user_id, title, message, type, metadata, created_at_micros"
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
}

impl IdempotencyRow {
    /// The record, or `Corrupt` when the stored row is not one (see
    /// `Notification::restore`: structure only).
    pub(crate) fn into_record(self) -> Result<IdempotencyRecord, RepositoryError> {
        let id = self.notification_id;
        let corrupt = |what: String| {
            RepositoryError::Corrupt(format!("idempotency record of notification {id}: {what}"))
        };
        let fingerprint = RequestFingerprint::from_slice(&self.fingerprint)
            .ok_or_else(|| corrupt(format!("fingerprint of {} bytes", self.fingerprint.len())))?;
        let created_at = from_unix_micros(self.created_at_micros)
            .ok_or_else(|| corrupt(format!("time {} out of range", self.created_at_micros)))?;
        // The snapshot is of a new notification: UNREAD, never read or archived.
        let notification = Notification::restore(StoredNotification {
            id: NotificationId::from_uuid(self.notification_id),
            user_id: UserId::from_uuid(self.user_id),
            title: self.title,
            message: self.message,
            notification_type: self.notification_type,
            status: NotificationStatus::Unread.as_str().to_owned(),
            metadata: self.metadata.0,
            created_at,
            read_at: None,
            archived_at: None,
        })
        .map_err(|e| corrupt(e.to_string()))?;
        Ok(IdempotencyRecord {
            fingerprint,
            notification,
        })
    }
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
        }
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
