//! `?since=<notification_id>`: what a reconnecting client missed, sent before
//! the live stream.
//!
//! The connection's slot in the hub is taken before the replay starts, so a
//! notification created while the replay runs is queued for the live stream:
//! it may arrive twice (once replayed, once live), never not at all. Clients
//! de-duplicate by `notification_id` (contract §5: at least once).

use std::time::Duration;

use notification_application::realtime::{ClientSocket, OutboundFrame, SharedText};
use notification_application::{NotificationService, ServiceError};
use notification_domain::{NotificationId, UserId};
use notification_protocol::{ErrorCode, NotificationResource, ServerMessage};

/// Rows read per query: a replay of millions of rows never holds more than
/// this many in memory.
pub const REPLAY_PAGE: u32 = 200;

/// Ids are given before the insert commits, so under concurrent creates for
/// one user a notification may become visible after a newer one that the
/// client already saw. Replaying from this long before `since` covers such a
/// late commit; the client de-duplicates the few repeats by id.
pub const REPLAY_GRACE: Duration = Duration::from_secs(5);

/// Why a replay stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("reading missed notifications failed")]
    Storage(#[from] ServiceError),
    #[error("the socket did not take the replay in time")]
    WriteTimeout,
    #[error("the socket is gone")]
    SocketClosed,
}

/// Sends every notification of `user_id` created after `since`, oldest first,
/// preceded by those of the [`REPLAY_GRACE`] before it (except `since`
/// itself). Each carries the user's unread count as of the start of the replay
/// (the count right after each old change is not kept). Returns how many were
/// sent.
pub async fn replay_since(
    service: &NotificationService,
    user_id: UserId,
    since: NotificationId,
    socket: &mut dyn ClientSocket,
    write_timeout: Duration,
) -> Result<usize, ReplayError> {
    let unread_count = service.unread_count(user_id).await?;
    let mut after = since.earlier_by(REPLAY_GRACE).unwrap_or(since);
    let mut sent = 0;
    loop {
        let page = service.list_after(user_id, after, REPLAY_PAGE).await?;
        for notification in page.iter().filter(|n| n.id() != since) {
            let message = ServerMessage::Notification {
                data: NotificationResource::from(notification),
                unread_count,
            };
            send(socket, &message, write_timeout).await?;
            sent += 1;
        }
        match page.last() {
            Some(last) if page.len() == REPLAY_PAGE as usize => after = last.id(),
            _ => return Ok(sent),
        }
    }
}

/// Tells the client that `since` names none of its notifications; the live
/// stream follows.
pub async fn report_unknown_since(
    socket: &mut dyn ClientSocket,
    write_timeout: Duration,
) -> Result<(), ReplayError> {
    let message = ServerMessage::error(
        ErrorCode::UnknownSince,
        "`since` is not one of your notifications; live notifications follow, reload the inbox for older ones",
    );
    send(socket, &message, write_timeout).await
}

async fn send(
    socket: &mut dyn ClientSocket,
    message: &ServerMessage,
    write_timeout: Duration,
) -> Result<(), ReplayError> {
    // Serializing our own message types into JSON cannot fail.
    let text = serde_json::to_string(message).unwrap_or_default();
    match tokio::time::timeout(
        write_timeout,
        socket.send(OutboundFrame::Text(SharedText::from(text))),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(ReplayError::SocketClosed),
        Err(_) => Err(ReplayError::WriteTimeout),
    }
}
