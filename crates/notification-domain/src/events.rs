//! Domain events: what the application publishes after each stored change.
//!
//! Each event carries everything a node needs to push it to sockets without
//! reading the database again, including the user's unread count right after
//! the change (so badges never drift and no push costs a count query).

use time::OffsetDateTime;

use crate::ids::{NotificationId, UserId};
use crate::notification::Notification;
use crate::status_change::StatusChange;

/// A notification was stored for its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationCreated {
    pub notification: Notification,
    /// The user's unread count right after this notification was stored.
    pub unread_count: u64,
    /// The number of this change in the user's change sequence.
    pub seq: u64,
    pub occurred_at: OffsetDateTime,
}

/// What changed in a [`NotificationUpdated`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationChange {
    Read {
        read_at: OffsetDateTime,
    },
    Unread,
    Archived {
        archived_at: OffsetDateTime,
    },
    Deleted,
    /// Every unread notification of the user was marked read.
    AllRead {
        read_at: OffsetDateTime,
        updated: u64,
    },
}

impl NotificationChange {
    /// The status change this is, when it is one (not a delete or a read-all).
    pub fn status_change(&self) -> Option<StatusChange> {
        match self {
            Self::Read { .. } => Some(StatusChange::Read),
            Self::Unread => Some(StatusChange::Unread),
            Self::Archived { .. } => Some(StatusChange::Archive),
            Self::Deleted | Self::AllRead { .. } => None,
        }
    }
}

/// One or all of a user's notifications changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationUpdated {
    pub user_id: UserId,
    /// `None` for [`NotificationChange::AllRead`].
    pub notification_id: Option<NotificationId>,
    pub change: NotificationChange,
    /// The user's unread count right after this change.
    pub unread_count: u64,
    /// The number of this change in the user's change sequence.
    pub seq: u64,
    pub occurred_at: OffsetDateTime,
}

/// Every event of the notification context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    NotificationCreated(NotificationCreated),
    NotificationUpdated(NotificationUpdated),
}

impl DomainEvent {
    /// The user whose sockets should hear about this event.
    pub fn user_id(&self) -> UserId {
        match self {
            Self::NotificationCreated(e) => e.notification.user_id(),
            Self::NotificationUpdated(e) => e.user_id,
        }
    }

    /// The number of this change in the user's change sequence.
    pub fn seq(&self) -> u64 {
        match self {
            Self::NotificationCreated(e) => e.seq,
            Self::NotificationUpdated(e) => e.seq,
        }
    }

    /// The user's unread count right after this change.
    pub fn unread_count(&self) -> u64 {
        match self {
            Self::NotificationCreated(e) => e.unread_count,
            Self::NotificationUpdated(e) => e.unread_count,
        }
    }

    pub fn occurred_at(&self) -> OffsetDateTime {
        match self {
            Self::NotificationCreated(e) => e.occurred_at,
            Self::NotificationUpdated(e) => e.occurred_at,
        }
    }
}

impl From<NotificationCreated> for DomainEvent {
    fn from(event: NotificationCreated) -> Self {
        Self::NotificationCreated(event)
    }
}

impl From<NotificationUpdated> for DomainEvent {
    fn from(event: NotificationUpdated) -> Self {
        Self::NotificationUpdated(event)
    }
}
