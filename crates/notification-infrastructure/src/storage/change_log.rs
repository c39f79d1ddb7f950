//! The change log's storage format (`notification_changes`, see the
//! migration `create_change_log`), both ways: [`ChangeRow`], what the batch
//! writer records for one change, and [`ChangeLogRow`], a stored row read
//! back as the very [`DomainEvent`] that was published for it.
//!
//! The format is its own, not the event bus's envelope: the bus carries
//! events between running nodes of neighbouring versions, the log keeps them
//! for `SYNC_LOG_RETENTION` and changes with the schema's migrations.

use notification_domain::{
    DomainEvent, Notification, NotificationChange, NotificationCreated, NotificationId,
    NotificationStatus, NotificationUpdated, RepositoryError, StatusChange, StoredNotification,
    UserId,
};
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::idempotency_row::{from_unix_micros, unix_micros};

/// The columns [`ChangeLogRow`] reads, in its order.
macro_rules! change_columns {
    () => {
        "user_id, seq, kind, notification_id, unread_count, occurred_at_micros, changed_at, \
         updated, title, message, type, metadata, created_at"
    };
}
pub(crate) use change_columns;

/// What kind of change a log row records (its `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Created,
    Read,
    Unread,
    Archive,
    Delete,
    ReadAll,
}

impl ChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Read => "read",
            Self::Unread => "unread",
            Self::Archive => "archive",
            Self::Delete => "delete",
            Self::ReadAll => "read_all",
        }
    }

    fn parse(kind: &str) -> Option<Self> {
        [
            Self::Created,
            Self::Read,
            Self::Unread,
            Self::Archive,
            Self::Delete,
            Self::ReadAll,
        ]
        .into_iter()
        .find(|known| known.as_str() == kind)
    }
}

impl From<StatusChange> for ChangeKind {
    fn from(change: StatusChange) -> Self {
        match change {
            StatusChange::Read => Self::Read,
            StatusChange::Unread => Self::Unread,
            StatusChange::Archive => Self::Archive,
        }
    }
}

/// One change as the batch writer records it. A create's content is not
/// here: the statement copies it from the notification row it inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeRow {
    pub(crate) user_id: Uuid,
    pub(crate) seq: i64,
    pub(crate) kind: ChangeKind,
    /// `None` for a read-all.
    pub(crate) notification_id: Option<Uuid>,
    pub(crate) unread_count: i64,
    pub(crate) occurred_at_micros: i64,
    /// `read_at` of a read or read-all, `archived_at` of an archive.
    pub(crate) changed_at: Option<OffsetDateTime>,
    /// How many a read-all marked read.
    pub(crate) updated: Option<i64>,
}

impl ChangeRow {
    /// A change of the user at `occurred_at`, of no particular notification
    /// and with no time of its own; the builders below fill those in.
    pub(crate) fn new(
        user_id: Uuid,
        kind: ChangeKind,
        position: (i64, i64),
        occurred_at: OffsetDateTime,
    ) -> Self {
        let (seq, unread_count) = position;
        Self {
            user_id,
            seq,
            kind,
            notification_id: None,
            unread_count,
            occurred_at_micros: unix_micros(occurred_at),
            changed_at: None,
            updated: None,
        }
    }

    pub(crate) fn of(mut self, id: NotificationId) -> Self {
        self.notification_id = Some(id.into_uuid());
        self
    }

    pub(crate) fn at(mut self, changed_at: Option<OffsetDateTime>) -> Self {
        self.changed_at = changed_at;
        self
    }

    pub(crate) fn updated(mut self, updated: i64) -> Self {
        self.updated = Some(updated);
        self
    }
}

/// A `notification_changes` row as stored, before it is checked.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ChangeLogRow {
    user_id: Uuid,
    seq: i64,
    kind: String,
    notification_id: Option<Uuid>,
    unread_count: i64,
    occurred_at_micros: i64,
    changed_at: Option<OffsetDateTime>,
    updated: Option<i64>,
    title: Option<String>,
    message: Option<String>,
    #[sqlx(rename = "type")]
    notification_type: Option<String>,
    metadata: Option<Json<Value>>,
    created_at: Option<OffsetDateTime>,
}

impl ChangeLogRow {
    pub(crate) fn seq(&self) -> i64 {
        self.seq
    }

    /// The event published for this change, or `Corrupt` when the row is not
    /// one this version wrote (an unknown kind, a missing field).
    pub(crate) fn into_event(self) -> Result<DomainEvent, RepositoryError> {
        let (user, seq) = (self.user_id, self.seq);
        let corrupt =
            |what: &str| RepositoryError::Corrupt(format!("change {seq} of user {user}: {what}"));
        let kind = ChangeKind::parse(&self.kind).ok_or_else(|| corrupt("unknown kind"))?;
        let unread_count =
            u64::try_from(self.unread_count).map_err(|_| corrupt("negative unread count"))?;
        let seq = u64::try_from(self.seq).map_err(|_| corrupt("negative seq"))?;
        let occurred_at = from_unix_micros(self.occurred_at_micros)
            .ok_or_else(|| corrupt("time out of range"))?;
        let user_id = UserId::from_uuid(self.user_id);
        let notification_id = self.notification_id.map(NotificationId::from_uuid);
        let changed_at = || self.changed_at.ok_or_else(|| corrupt("no time of change"));
        let change = match kind {
            ChangeKind::Created => {
                let id = notification_id.ok_or_else(|| corrupt("no notification id"))?;
                let missing = || corrupt("no content");
                // A new notification is UNREAD, never read or archived.
                let notification = Notification::restore(StoredNotification {
                    id,
                    user_id,
                    title: self.title.ok_or_else(missing)?,
                    message: self.message.ok_or_else(missing)?,
                    notification_type: self.notification_type.ok_or_else(missing)?,
                    status: NotificationStatus::Unread.as_str().to_owned(),
                    metadata: self.metadata.ok_or_else(missing)?.0,
                    created_at: self.created_at.ok_or_else(missing)?,
                    read_at: None,
                    archived_at: None,
                })
                .map_err(|e| corrupt(&e.to_string()))?;
                return Ok(NotificationCreated {
                    notification,
                    unread_count,
                    seq,
                    occurred_at,
                }
                .into());
            }
            ChangeKind::Read => NotificationChange::Read {
                read_at: changed_at()?,
            },
            ChangeKind::Unread => NotificationChange::Unread,
            ChangeKind::Archive => NotificationChange::Archived {
                archived_at: changed_at()?,
            },
            ChangeKind::Delete => NotificationChange::Deleted,
            ChangeKind::ReadAll => NotificationChange::AllRead {
                read_at: changed_at()?,
                updated: self
                    .updated
                    .and_then(|updated| u64::try_from(updated).ok())
                    .ok_or_else(|| corrupt("no count of a read-all"))?,
            },
        };
        Ok(NotificationUpdated {
            user_id,
            notification_id,
            change,
            unread_count,
            seq,
            occurred_at,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::now;

    fn row(kind: &str) -> ChangeLogRow {
        ChangeLogRow {
            user_id: Uuid::now_v7(),
            seq: 4,
            kind: kind.to_owned(),
            notification_id: Some(Uuid::now_v7()),
            unread_count: 2,
            occurred_at_micros: unix_micros(now()),
            changed_at: Some(now()),
            updated: None,
            title: None,
            message: None,
            notification_type: None,
            metadata: None,
            created_at: None,
        }
    }

    #[test]
    fn every_kind_keeps_its_spelling() {
        for kind in [
            ChangeKind::Created,
            ChangeKind::Read,
            ChangeKind::Unread,
            ChangeKind::Archive,
            ChangeKind::Delete,
            ChangeKind::ReadAll,
        ] {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn a_read_row_is_its_read_event() {
        let stored = row("read");
        let read_at = stored.changed_at.unwrap();
        let DomainEvent::NotificationUpdated(event) = stored.into_event().unwrap() else {
            panic!("a read is an update");
        };
        assert_eq!(event.change, NotificationChange::Read { read_at });
        assert_eq!((event.seq, event.unread_count), (4, 2));
    }

    #[test]
    fn a_row_this_version_did_not_write_is_corrupt() {
        for broken in [row("snoozed"), row("created"), {
            let mut read_all = row("read_all");
            read_all.updated = None;
            read_all
        }] {
            assert!(matches!(
                broken.into_event(),
                Err(RepositoryError::Corrupt(_))
            ));
        }
    }
}
