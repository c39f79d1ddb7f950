//! [`Idempotency`]: the "create once" part of a create request.

use notification_domain::{IdempotencyKey, UserId};

/// "Create this once": the publisher that sends the request and the key it
/// chose. Handed to [`NotificationService::create`](crate::NotificationService::create);
/// a repeat with the same publisher, key and request within
/// [`IDEMPOTENCY_KEY_TTL`](notification_domain::IDEMPOTENCY_KEY_TTL) answers
/// the first result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// Who sends the request (the `sub` of a publisher token): keys of two
    /// publishers never collide.
    pub publisher: UserId,
    pub key: IdempotencyKey,
}

impl Idempotency {
    pub fn new(publisher: UserId, key: IdempotencyKey) -> Self {
        Self { publisher, key }
    }
}
