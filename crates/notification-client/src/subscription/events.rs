//! What a [`Subscription`](super::Subscription) yields.

use std::time::Duration;

use notification_protocol::{ErrorCode, NotificationResource, UpdateData, UpdateType};
use uuid::Uuid;

/// One thing that happened, in the order it happened. An application keeps
/// its badge at the latest `unread_count` and its list from `Notification`
/// and `Update` (each carries its `seq`, the change's place in the user's
/// sequence; they come in `seq` order with no gap), and reloads on `Resync`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A socket is open. What was missed while disconnected follows as
    /// `Notification` and `Update` events (replayed by the server).
    Connected,
    /// A new notification: live, or missed while disconnected.
    Notification {
        notification: NotificationResource,
        unread_count: u64,
        seq: u64,
    },
    /// A notification changed (`notification_id` is `None` for `read_all`).
    Update {
        notification_id: Option<Uuid>,
        update_type: UpdateType,
        data: UpdateData,
        unread_count: u64,
        seq: u64,
    },
    /// The changes after the subscription's point are no longer kept by the
    /// server (or the point was never one of the user's): reload the inbox
    /// over REST. The feed goes on after `seq`; `unread_count` is the count
    /// right after it.
    Resync { seq: u64, unread_count: u64 },
    /// The token was replaced in-band; the socket now lives until
    /// `expires_at` (Unix seconds).
    TokenRefreshed { expires_at: i64 },
    /// The socket closed or an attempt failed; the next attempt starts in
    /// `retry_in` and resumes where this one stopped.
    Disconnected {
        reason: DisconnectReason,
        retry_in: Duration,
    },
    /// The token was refused or has expired and no fresh one is at hand. The
    /// subscription is not connected and tries nothing until
    /// [`Subscription::set_token`](super::Subscription::set_token).
    TokenRequired,
    /// The server refused in a way retrying cannot fix (403: origin not
    /// allowed; 400: not a WebSocket endpoint). The last event.
    Stopped { reason: DisconnectReason },
}

/// Why a socket is not open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server closed the socket (docs/protocol.md lists the codes:
    /// 1001 restart, 1012 events may have been missed, 1013 slow consumer,
    /// 1008 token expired, 1011 replay failed…). Every code but 1008 is
    /// followed by a reconnection that resumes with `since_seq`.
    Closed { code: u16, reason: String },
    /// The server refused the upgrade or a REST call with this status.
    Refused {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },
    /// The connection could not be made or dropped (server down, network).
    Network(String),
}

impl From<crate::ClientError> for DisconnectReason {
    fn from(error: crate::ClientError) -> Self {
        use crate::ClientError;
        match error {
            ClientError::Api {
                status,
                code,
                message,
                ..
            } => Self::Refused {
                status,
                code: Some(code),
                message,
            },
            ClientError::UnexpectedResponse { status, body } => Self::Refused {
                status,
                code: None,
                message: body,
            },
            other => Self::Network(other.to_string()),
        }
    }
}
