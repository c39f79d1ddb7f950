//! Idempotent creation: a publisher that repeats a create request with the
//! same key gets the first result back, and nobody is notified twice.
//!
//! - [`IdempotencyKey`]: the client-chosen key of one logical request.
//! - [`RequestFingerprint`](crate::RequestFingerprint) (in `fingerprint`): what
//!   the request asked for, so that a key reused for a different request is
//!   refused rather than answered with an unrelated notification.
//! - [`IdempotencyClaim`], [`IdempotencyRecord`] and [`IdempotentInsert`]: what
//!   the application hands the repository and what it gets back from
//!   [`NotificationRepository::insert_idempotent`](crate::NotificationRepository::insert_idempotent).
//!
//! A key belongs to the publisher that sent it (two publishers never collide)
//! and lives for [`IDEMPOTENCY_KEY_TTL`]; after that it is as good as new.

use time::Duration;

use crate::error::ValidationError;
use crate::fingerprint::RequestFingerprint;
use crate::ids::UserId;
use crate::notification::Notification;
use crate::sync::InboxPosition;

/// How long a key is remembered: a repeat within this answers the first result.
pub const IDEMPOTENCY_KEY_TTL: Duration = Duration::hours(24);

/// Longest key accepted, in bytes (a UUID is 36; leave room for client schemes).
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 255;

/// The name of the key in a [`ValidationError`]. The REST API renames it to
/// the header it came in (`Idempotency-Key`).
pub const IDEMPOTENCY_KEY_FIELD: &str = "idempotency_key";

/// A client-chosen key identifying one logical create request:
/// 1–255 visible ASCII characters, compared exactly (case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > IDEMPOTENCY_KEY_MAX_LEN {
            return Err(ValidationError::new(
                IDEMPOTENCY_KEY_FIELD,
                format!("must be 1–{IDEMPOTENCY_KEY_MAX_LEN} characters"),
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new(
                IDEMPOTENCY_KEY_FIELD,
                "must be visible ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// "This publisher sends this request under this key": what a repository
/// records next to the notification it inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The `sub` of the publisher's token: keys are scoped to it.
    pub publisher: UserId,
    pub key: IdempotencyKey,
    pub fingerprint: RequestFingerprint,
}

/// A key already in use: what it was first used for and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: RequestFingerprint,
    /// The notification exactly as first created (UNREAD, no read or archive
    /// time), even if it has changed or been deleted since: a replay answers
    /// the first response.
    pub notification: Notification,
}

impl IdempotencyRecord {
    /// Whether a request with `fingerprint` is a repeat of the recorded one.
    pub fn is_repeat_of(&self, fingerprint: &RequestFingerprint) -> bool {
        self.fingerprint == *fingerprint
    }
}

/// The result of [`NotificationRepository::insert_idempotent`](crate::NotificationRepository::insert_idempotent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentInsert {
    /// The key was free: the notification and the key are stored, together.
    Inserted {
        /// The create's number in the user's change sequence, and the
        /// user's unread count right after it.
        position: InboxPosition,
    },
    /// The publisher already used the key (possibly a moment ago, in a
    /// concurrent request): nothing was stored.
    AlreadyUsed(IdempotencyRecord),
}

/// A key a batch create used: what the batch was and the notifications it
/// created, in its order. A key first used by a single create reads back as
/// a record of that one notification (with the single create's fingerprint,
/// which no batch has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchIdempotencyRecord {
    pub fingerprint: RequestFingerprint,
    /// The notifications exactly as first created, in the batch's order.
    pub notifications: Vec<Notification>,
}

impl BatchIdempotencyRecord {
    /// Whether a batch with `fingerprint` is a repeat of the recorded one.
    pub fn is_repeat_of(&self, fingerprint: &RequestFingerprint) -> bool {
        self.fingerprint == *fingerprint
    }
}

/// The result of [`NotificationRepository::insert_batch_idempotent`](crate::NotificationRepository::insert_batch_idempotent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentBatchInsert {
    /// The key was free: every notification and the key are stored, together.
    Inserted {
        /// Each create's position, in the batch's order.
        positions: Vec<InboxPosition>,
    },
    /// The publisher already used the key: nothing was stored.
    AlreadyUsed(BatchIdempotencyRecord),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_a_valid_key() {
        let key = IdempotencyKey::parse("0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f").unwrap();
        assert_eq!(key.as_str(), "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f");
    }

    #[test]
    fn keys_of_1_to_255_visible_ascii_characters_are_accepted() {
        for raw in ["k", "order-42:created", &"k".repeat(255), "!~"] {
            assert!(IdempotencyKey::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn empty_long_spaced_or_non_ascii_keys_are_rejected_with_their_field() {
        for raw in ["", "has space", &"k".repeat(256), "tab\there", "ação"] {
            let err = IdempotencyKey::parse(raw).unwrap_err();
            assert_eq!(err.field, IDEMPOTENCY_KEY_FIELD, "{raw:?}");
        }
    }

    #[test]
    fn keys_are_case_sensitive() {
        assert_ne!(
            IdempotencyKey::parse("Key").unwrap(),
            IdempotencyKey::parse("key").unwrap()
        );
    }
}
