//! Identifier value objects.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Identifies one notification. A UUIDv7: ids sort by creation time, which the
/// repositories use for keyset pagination and for "everything after this id".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NotificationId(Uuid);

impl NotificationId {
    /// A fresh id for a notification created now. Deliberately no `Default`:
    /// a random value is no default, and `..Default::default()` would hide it.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an id read back from storage or from a client.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    pub const fn into_uuid(self) -> Uuid {
        self.0
    }
}

/// Identifies the user who owns notifications: the `sub` of their token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(Uuid);

impl UserId {
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    pub const fn into_uuid(self) -> Uuid {
        self.0
    }
}

macro_rules! uuid_newtype_conversions {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

uuid_newtype_conversions!(NotificationId);
uuid_newtype_conversions!(UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_ids_created_later_sort_after_earlier_ones() {
        let ids: Vec<NotificationId> = (0..100).map(|_| NotificationId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = NotificationId::new();
        assert_eq!(id.to_string().parse::<NotificationId>().ok(), Some(id));
        let user: UserId = "123e4567-e89b-12d3-a456-426614174001".parse().unwrap();
        assert_eq!(user.to_string(), "123e4567-e89b-12d3-a456-426614174001");
    }

    #[test]
    fn a_malformed_id_is_rejected() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
