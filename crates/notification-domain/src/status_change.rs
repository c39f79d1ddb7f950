//! [`StatusChange`]: the kinds of change a user makes to one notification's
//! status, defined once for every layer (the wire spelling lives in the
//! protocol crate).

use time::OffsetDateTime;

use crate::notification::Notification;

/// A change of one notification's status asked for by its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Read,
    Unread,
    Archive,
}

impl StatusChange {
    /// Applies the change to `notification` at `at`; returns whether anything
    /// changed (a repeat changes nothing).
    pub fn apply_to(self, notification: &mut Notification, at: OffsetDateTime) -> bool {
        match self {
            Self::Read => notification.mark_read(at),
            Self::Unread => notification.mark_unread(),
            Self::Archive => notification.archive(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{now, NotificationDraft, NotificationId, NotificationStatus, UserId};

    #[test]
    fn each_change_applies_its_transition_once() {
        let draft = NotificationDraft::parse(
            UserId::from_uuid(uuid::Uuid::now_v7()),
            "t",
            "m",
            None,
            None,
        )
        .unwrap();
        let mut notification = Notification::new(draft, NotificationId::new(), now());
        assert!(!StatusChange::Unread.apply_to(&mut notification, now()));
        assert!(StatusChange::Read.apply_to(&mut notification, now()));
        assert!(!StatusChange::Read.apply_to(&mut notification, now()));
        assert!(StatusChange::Archive.apply_to(&mut notification, now()));
        assert_eq!(notification.status(), NotificationStatus::Archived);
        assert!(StatusChange::Unread.apply_to(&mut notification, now()));
        assert_eq!(notification.status(), NotificationStatus::Unread);
    }
}
