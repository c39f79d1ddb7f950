//! The notification entity and its lifecycle.
//!
//! ```text
//!            mark_read            archive
//!   UNREAD ────────────▶ READ ────────────▶ ARCHIVED
//!     ▲  ◀──────────────  │                   │
//!     │     mark_unread   │ archive           │
//!     │                   ▼                   │
//!     └──────────────── (from UNREAD) ◀───────┘ mark_unread
//! ```
//!
//! - `mark_read`: UNREAD → READ, sets `read_at`. On READ or ARCHIVED: no change.
//! - `mark_unread`: READ or ARCHIVED → UNREAD, clears `read_at` and `archived_at`
//!   (the notification is back in the inbox as new). On UNREAD: no change.
//! - `archive`: UNREAD or READ → ARCHIVED, sets `archived_at` and keeps `read_at`
//!   as it was. On ARCHIVED: no change.
//!
//! Each transition returns whether anything changed, so that a repeated request
//! stores and publishes nothing.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::content::{Message, Metadata, NotificationDraft, Title};
use crate::error::ValidationError;
use crate::ids::{NotificationId, UserId};
use crate::timestamp::truncate_to_micros;

/// What kind of news a notification carries; clients pick an icon or colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NotificationType {
    #[default]
    Info,
    Success,
    Warning,
    Error,
}

/// Where a notification stands in its user's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    Unread,
    Read,
    Archived,
}

macro_rules! upper_case_enum_text {
    ($name:ident, $field:literal, $($variant:ident => $text:literal),+) => {
        impl $name {
            /// The contract's spelling (`"INFO"`, `"UNREAD"`, …).
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(ValidationError::new(
                        $field,
                        format!(concat!("must be one of ", $($text, " "),+ , "(got {:?})"), s),
                    )),
                }
            }
        }
    };
}

upper_case_enum_text!(NotificationType, "type",
    Info => "INFO", Success => "SUCCESS", Warning => "WARNING", Error => "ERROR");
upper_case_enum_text!(NotificationStatus, "status",
    Unread => "UNREAD", Read => "READ", Archived => "ARCHIVED");

/// A notification in a user's inbox.
///
/// Built only by [`Notification::new`] (from a validated draft),
/// [`Notification::parse`] (from received fields, validated again) or
/// [`Notification::restore`] (from stored fields, checked for structure), so every
/// value of this type keeps the contract's structure (and, unless restored
/// from an older row, its rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    id: NotificationId,
    user_id: UserId,
    title: Title,
    message: Message,
    notification_type: NotificationType,
    status: NotificationStatus,
    metadata: Metadata,
    created_at: OffsetDateTime,
    read_at: Option<OffsetDateTime>,
    archived_at: Option<OffsetDateTime>,
}

/// The stored fields of a notification, as a repository reads them back.
#[derive(Debug, Clone)]
pub struct StoredNotification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub title: String,
    pub message: String,
    pub notification_type: String,
    pub status: String,
    pub metadata: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub read_at: Option<OffsetDateTime>,
    pub archived_at: Option<OffsetDateTime>,
}

impl Notification {
    /// A new, unread notification.
    pub fn new(draft: NotificationDraft, id: NotificationId, created_at: OffsetDateTime) -> Self {
        Self {
            id,
            user_id: draft.user_id,
            title: draft.title,
            message: draft.message,
            notification_type: draft.notification_type,
            status: NotificationStatus::Unread,
            metadata: draft.metadata,
            created_at: truncate_to_micros(created_at),
            read_at: None,
            archived_at: None,
        }
    }

    /// A notification received from another process (an event on the bus),
    /// checking every rule of a new one: such input is not trusted.
    pub fn parse(received: StoredNotification) -> Result<Self, ValidationError> {
        Ok(Self {
            title: Title::parse(&received.title)?,
            message: Message::parse(&received.message)?,
            metadata: Metadata::parse(received.metadata)?,
            ..Self::restore(StoredNotification {
                title: String::new(),
                message: String::new(),
                metadata: serde_json::Value::Object(serde_json::Map::new()),
                ..received
            })?
        })
    }

    /// Rebuilds a notification from storage, checking its structure only: the
    /// type and status must be known and the metadata an object, but the
    /// length and content rules of new notifications are not applied again.
    /// A row was checked when it was written; a rule tightened since must not
    /// turn old inboxes into errors.
    pub fn restore(stored: StoredNotification) -> Result<Self, ValidationError> {
        Ok(Self {
            id: stored.id,
            user_id: stored.user_id,
            title: Title::stored(stored.title),
            message: Message::stored(stored.message),
            notification_type: stored.notification_type.parse()?,
            status: stored.status.parse()?,
            metadata: Metadata::stored(stored.metadata)?,
            created_at: stored.created_at,
            read_at: stored.read_at,
            archived_at: stored.archived_at,
        })
    }

    pub fn id(&self) -> NotificationId {
        self.id
    }
    pub fn user_id(&self) -> UserId {
        self.user_id
    }
    pub fn title(&self) -> &str {
        self.title.as_str()
    }
    pub fn message(&self) -> &str {
        self.message.as_str()
    }
    pub fn notification_type(&self) -> NotificationType {
        self.notification_type
    }
    pub fn status(&self) -> NotificationStatus {
        self.status
    }
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    pub fn read_at(&self) -> Option<OffsetDateTime> {
        self.read_at
    }
    pub fn archived_at(&self) -> Option<OffsetDateTime> {
        self.archived_at
    }

    /// UNREAD → READ. Returns whether anything changed.
    pub fn mark_read(&mut self, at: OffsetDateTime) -> bool {
        if self.status != NotificationStatus::Unread {
            return false;
        }
        self.status = NotificationStatus::Read;
        self.read_at = Some(truncate_to_micros(at));
        true
    }

    /// READ or ARCHIVED → UNREAD. Returns whether anything changed.
    pub fn mark_unread(&mut self) -> bool {
        if self.status == NotificationStatus::Unread {
            return false;
        }
        self.status = NotificationStatus::Unread;
        self.read_at = None;
        self.archived_at = None;
        true
    }

    /// UNREAD or READ → ARCHIVED. Returns whether anything changed.
    pub fn archive(&mut self, at: OffsetDateTime) -> bool {
        if self.status == NotificationStatus::Archived {
            return false;
        }
        self.status = NotificationStatus::Archived;
        self.archived_at = Some(truncate_to_micros(at));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn unread() -> Notification {
        let draft = NotificationDraft::parse(
            UserId::from_uuid(uuid::Uuid::now_v7()),
            "Nova transação",
            "Uma nova transação foi criada",
            None,
            None,
        )
        .unwrap();
        Notification::new(
            draft,
            NotificationId::new(),
            datetime!(2025-12-31 18:00 UTC),
        )
    }

    #[test]
    fn a_new_notification_is_unread_with_no_read_or_archive_time() {
        let n = unread();
        assert_eq!(n.status(), NotificationStatus::Unread);
        assert_eq!(n.read_at(), None);
        assert_eq!(n.archived_at(), None);
    }

    #[test]
    fn mark_read_sets_read_at_once() {
        let mut n = unread();
        let at = datetime!(2025-12-31 18:05 UTC);
        assert!(n.mark_read(at));
        assert_eq!(n.status(), NotificationStatus::Read);
        assert_eq!(n.read_at(), Some(at));
        assert!(!n.mark_read(datetime!(2025-12-31 19:00 UTC)));
        assert_eq!(n.read_at(), Some(at), "a repeat keeps the first read time");
    }

    #[test]
    fn mark_unread_clears_read_and_archive_times() {
        let mut n = unread();
        assert!(!n.mark_unread());
        n.mark_read(datetime!(2025-12-31 18:05 UTC));
        n.archive(datetime!(2025-12-31 18:06 UTC));
        assert!(n.mark_unread());
        assert_eq!(n.status(), NotificationStatus::Unread);
        assert_eq!((n.read_at(), n.archived_at()), (None, None));
    }

    #[test]
    fn archive_keeps_read_at_and_is_not_repeated() {
        let mut n = unread();
        let read = datetime!(2025-12-31 18:05 UTC);
        let archived = datetime!(2025-12-31 18:06 UTC);
        n.mark_read(read);
        assert!(n.archive(archived));
        assert_eq!(n.status(), NotificationStatus::Archived);
        assert_eq!(n.read_at(), Some(read));
        assert_eq!(n.archived_at(), Some(archived));
        assert!(!n.archive(datetime!(2025-12-31 19:00 UTC)));
        assert!(
            !n.mark_read(datetime!(2025-12-31 19:00 UTC)),
            "archived stays archived"
        );
    }

    #[test]
    fn enum_text_round_trips_and_rejects_other_spellings() {
        for t in ["INFO", "SUCCESS", "WARNING", "ERROR"] {
            assert_eq!(t.parse::<NotificationType>().unwrap().as_str(), t);
        }
        assert_eq!(
            "info".parse::<NotificationType>().unwrap_err().field,
            "type"
        );
        assert_eq!(
            "DONE".parse::<NotificationStatus>().unwrap_err().field,
            "status"
        );
    }

    fn stored(title: &str, status: &str, metadata: serde_json::Value) -> StoredNotification {
        let n = unread();
        StoredNotification {
            id: n.id(),
            user_id: n.user_id(),
            title: title.into(),
            message: "m".into(),
            notification_type: "INFO".into(),
            status: status.into(),
            metadata,
            created_at: n.created_at(),
            read_at: None,
            archived_at: None,
        }
    }

    #[test]
    fn restore_keeps_a_stored_row_that_a_newer_write_rule_would_refuse() {
        use serde_json::json;
        let long_title = "t".repeat(crate::content::TITLE_MAX_CHARS + 1);
        let restored = Notification::restore(stored(&long_title, "UNREAD", json!({}))).unwrap();
        assert_eq!(restored.title(), long_title);
        let big = json!({ "blob": "x".repeat(crate::content::METADATA_MAX_BYTES) });
        assert!(Notification::restore(stored("t", "READ", big)).is_ok());
    }

    #[test]
    fn restore_rejects_a_row_whose_structure_is_broken() {
        use serde_json::json;
        assert!(Notification::restore(stored("t", "DONE", json!({}))).is_err());
        assert!(Notification::restore(stored("t", "UNREAD", json!([1]))).is_err());
    }

    #[test]
    fn parse_applies_every_rule_to_a_received_notification() {
        use serde_json::json;
        assert!(Notification::parse(stored("t", "UNREAD", json!({}))).is_ok());
        let err = Notification::parse(stored("  ", "UNREAD", json!({}))).unwrap_err();
        assert_eq!(err.field, "title");
        let long_title = "t".repeat(crate::content::TITLE_MAX_CHARS + 1);
        assert!(Notification::parse(stored(&long_title, "UNREAD", json!({}))).is_err());
    }
}
