//! The push port: hand a domain event to every open socket of its user, or
//! tell every socket to resume after events were lost.

use async_trait::async_trait;
use notification_domain::{NotificationCreated, NotificationUpdated};

/// Reaches the open WebSocket connections of a user on this node.
///
/// Each method builds the contract's message once and returns how many
/// sockets accepted it (0 when the user has no connection here, which is
/// normal on a multi-node deployment).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PushService: Send + Sync {
    /// Sends a `notification` message.
    async fn send_notification(&self, event: &NotificationCreated) -> usize;

    /// Sends a `notification_update` message.
    async fn send_notification_update(&self, event: &NotificationUpdated) -> usize;

    /// Events may have been missed: tells every open socket on this node to
    /// reconnect with `since` (their clients then get what they missed from
    /// the replay). Returns how many sockets were told; sockets opened
    /// afterwards are not affected.
    async fn resync_all(&self) -> usize;
}
