//! Conversions between the domain's types and the wire's (feature `domain`,
//! enabled by the server's crates only): every producer of a message builds
//! it the same way, and clients of this crate never link the domain.

use notification_domain as domain;

use crate::kinds::{NotificationStatus, NotificationType};

impl From<domain::NotificationType> for NotificationType {
    fn from(kind: domain::NotificationType) -> Self {
        match kind {
            domain::NotificationType::Info => Self::Info,
            domain::NotificationType::Success => Self::Success,
            domain::NotificationType::Warning => Self::Warning,
            domain::NotificationType::Error => Self::Error,
        }
    }
}

impl From<NotificationType> for domain::NotificationType {
    fn from(kind: NotificationType) -> Self {
        match kind {
            NotificationType::Info => Self::Info,
            NotificationType::Success => Self::Success,
            NotificationType::Warning => Self::Warning,
            NotificationType::Error => Self::Error,
        }
    }
}

impl From<domain::NotificationStatus> for NotificationStatus {
    fn from(status: domain::NotificationStatus) -> Self {
        match status {
            domain::NotificationStatus::Unread => Self::Unread,
            domain::NotificationStatus::Read => Self::Read,
            domain::NotificationStatus::Archived => Self::Archived,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_keeps_its_spelling_both_ways() {
        for kind in [
            domain::NotificationType::Info,
            domain::NotificationType::Success,
            domain::NotificationType::Warning,
            domain::NotificationType::Error,
        ] {
            let wire = NotificationType::from(kind);
            assert_eq!(serde_json::json!(wire), serde_json::json!(kind.as_str()));
            assert_eq!(domain::NotificationType::from(wire), kind);
        }
    }

    #[test]
    fn every_status_keeps_its_spelling() {
        for status in [
            domain::NotificationStatus::Unread,
            domain::NotificationStatus::Read,
            domain::NotificationStatus::Archived,
        ] {
            let wire = NotificationStatus::from(status);
            assert_eq!(serde_json::json!(wire), serde_json::json!(status.as_str()));
        }
    }
}
