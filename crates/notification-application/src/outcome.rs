//! [`CreateOutcome`] and [`BatchOutcome`]: what a create or a batch create did.

use notification_domain::Notification;

/// The result of [`NotificationService::create`](crate::NotificationService::create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new notification was stored and announced.
    Created(Notification),
    /// The publisher already sent this request under this key: the
    /// notification as first created, and nothing stored or announced again.
    Replayed(Notification),
}

impl CreateOutcome {
    pub fn notification(&self) -> &Notification {
        match self {
            Self::Created(notification) | Self::Replayed(notification) => notification,
        }
    }

    pub fn into_notification(self) -> Notification {
        match self {
            Self::Created(notification) | Self::Replayed(notification) => notification,
        }
    }

    /// Whether this answers an earlier request rather than creating.
    pub fn is_replay(&self) -> bool {
        matches!(self, Self::Replayed(_))
    }
}

/// The result of [`NotificationService::create_batch`](crate::NotificationService::create_batch):
/// the notifications in the batch's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// New notifications were stored (all of them) and announced.
    Created(Vec<Notification>),
    /// The publisher already sent this batch under this key: the
    /// notifications as first created, and nothing stored or announced again.
    Replayed(Vec<Notification>),
}

impl BatchOutcome {
    pub fn notifications(&self) -> &[Notification] {
        match self {
            Self::Created(notifications) | Self::Replayed(notifications) => notifications,
        }
    }

    /// Whether this answers an earlier request rather than creating.
    pub fn is_replay(&self) -> bool {
        matches!(self, Self::Replayed(_))
    }
}
