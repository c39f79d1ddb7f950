//! Everything the server writes on a socket goes through here: one `encode`
//! of a server message (one failure policy) and one bounded write.

use std::time::Duration;

use notification_application::realtime::{ClientSocket, OutboundFrame, SharedText};
use notification_protocol::ServerMessage;
use tokio::time::timeout;

use crate::realtime::close::CloseReason;

/// Serializes `message` for the wire. Our message types always serialize;
/// should one ever fail, the message is logged and skipped (`None`), never
/// replaced by something else, and the connection goes on.
pub(crate) fn encode(message: &ServerMessage) -> Option<SharedText> {
    match serde_json::to_string(message) {
        Ok(text) => Some(SharedText::from(text)),
        Err(error) => {
            tracing::error!(%error, "server message not serializable; skipped");
            None
        }
    }
}

/// Writes `frame`, giving up after `write_timeout`: a socket that does not
/// take a write in time, or fails it, ends the connection.
pub(crate) async fn send(
    socket: &mut dyn ClientSocket,
    frame: OutboundFrame,
    write_timeout: Duration,
) -> Result<(), CloseReason> {
    match timeout(write_timeout, socket.send(frame)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(CloseReason::WriteFailed),
        Err(_elapsed) => Err(CloseReason::WriteTimeout),
    }
}

/// Writes the close frame of `reason`, if it has one. Best effort: the
/// client may already be gone.
pub(crate) async fn close(
    socket: &mut dyn ClientSocket,
    reason: CloseReason,
    write_timeout: Duration,
) {
    if let Some((code, text)) = reason.close_frame() {
        let frame = OutboundFrame::Close {
            code,
            reason: text.to_owned(),
        };
        let _ = send(socket, frame, write_timeout).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::fake_socket::connected_pair;
    use notification_protocol::ErrorCode;

    #[test]
    fn a_message_is_encoded_as_its_json() {
        let text = encode(&ServerMessage::error(ErrorCode::InvalidMessage, "no")).unwrap();
        assert_eq!(
            text.as_str(),
            r#"{"type":"error","error":{"code":"invalid_message","message":"no"}}"#
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_does_not_complete_in_time_is_a_write_timeout() {
        let (mut socket, client) = connected_pair();
        client.stall_writes();
        let sent = send(&mut socket, OutboundFrame::Ping, Duration::from_secs(10)).await;
        assert_eq!(sent, Err(CloseReason::WriteTimeout));
    }

    #[tokio::test]
    async fn a_close_reason_without_a_frame_writes_nothing() {
        let (mut socket, mut client) = connected_pair();
        close(
            &mut socket,
            CloseReason::StreamEnded,
            Duration::from_secs(1),
        )
        .await;
        close(
            &mut socket,
            CloseReason::ReplayFailed,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(
            client.next_close().await,
            (
                1011,
                "replay failed, reconnect with the same since".to_owned()
            )
        );
    }
}
