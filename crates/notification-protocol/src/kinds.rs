//! The notification's type and status as the wire spells them (`"INFO"`,
//! `"UNREAD"`, …). Defined here, not borrowed from the domain, so that the
//! contract's spelling is this crate's and a client links no server code.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of news a notification carries (`type`); `INFO` when a create
/// request leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NotificationType {
    #[default]
    Info,
    Success,
    Warning,
    Error,
}

/// Where a notification stands in its user's inbox (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NotificationStatus {
    Unread,
    Read,
    Archived,
}

impl NotificationType {
    /// The wire's spelling, as in JSON.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Info => "INFO",
            Self::Success => "SUCCESS",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
        }
    }
}

impl NotificationStatus {
    /// The wire's spelling, as in JSON and in `?status=`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Unread => "UNREAD",
            Self::Read => "READ",
            Self::Archived => "ARCHIVED",
        }
    }
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for NotificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_enums_are_spelled_in_upper_case() {
        assert_eq!(json!(NotificationType::Warning), json!("WARNING"));
        assert_eq!(json!(NotificationStatus::Archived), json!("ARCHIVED"));
        let parsed: NotificationType = serde_json::from_value(json!("SUCCESS")).unwrap();
        assert_eq!(parsed, NotificationType::Success);
        assert!(serde_json::from_value::<NotificationType>(json!("success")).is_err());
    }

    #[test]
    fn as_str_is_the_json_spelling() {
        for kind in [
            NotificationType::Info,
            NotificationType::Success,
            NotificationType::Warning,
            NotificationType::Error,
        ] {
            assert_eq!(json!(kind), json!(kind.as_str()));
        }
        for status in [
            NotificationStatus::Unread,
            NotificationStatus::Read,
            NotificationStatus::Archived,
        ] {
            assert_eq!(json!(status), json!(status.as_str()));
        }
    }
}
