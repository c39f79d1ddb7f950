//! actix-ws behind the application's [`ClientSocket`] port.

use actix_ws::{
    AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session,
};
use async_trait::async_trait;
use bytestring::ByteString;
use futures_util::StreamExt;
use notification_application::realtime::{ClientSocket, InboundFrame, OutboundFrame, SocketError};

/// One accepted WebSocket. Not `Send` (actix-ws's stream is tied to its
/// worker): the connection future runs with `actix_web::rt::spawn`.
pub struct ActixSocket {
    session: Session,
    stream: AggregatedMessageStream,
}

impl ActixSocket {
    pub fn new(session: Session, stream: AggregatedMessageStream) -> Self {
        Self { session, stream }
    }
}

fn inbound(item: Result<AggregatedMessage, ProtocolError>) -> Result<InboundFrame, SocketError> {
    match item {
        Ok(AggregatedMessage::Text(text)) => Ok(InboundFrame::Text(text.to_string())),
        Ok(AggregatedMessage::Binary(bytes)) => Ok(InboundFrame::Binary { size: bytes.len() }),
        Ok(AggregatedMessage::Ping(payload)) => Ok(InboundFrame::Ping(payload.to_vec())),
        Ok(AggregatedMessage::Pong(_)) => Ok(InboundFrame::Pong),
        Ok(AggregatedMessage::Close(_)) => Ok(InboundFrame::Close),
        // A single over-long frame, or (patched actix-ws, see
        // patches/actix-ws/PATCH.md) an over-long fragmented message.
        Err(ProtocolError::Overflow) => Ok(InboundFrame::TooLarge),
        Err(error) => Err(SocketError::Transport(Box::new(error))),
    }
}

#[async_trait(?Send)]
impl ClientSocket for ActixSocket {
    async fn recv(&mut self) -> Option<Result<InboundFrame, SocketError>> {
        // `StreamExt::next` on the aggregated stream is cancel-safe: a frame is
        // only taken out of the stream when it is returned.
        self.stream.next().await.map(inbound)
    }

    async fn send(&mut self, frame: OutboundFrame) -> Result<(), SocketError> {
        let sent = match frame {
            OutboundFrame::Text(text) => {
                // The hub's bytes are JSON text, so this check only confirms
                // what serde_json produced; it never copies.
                let text = ByteString::try_from(text.to_bytes())
                    .map_err(|error| SocketError::Transport(Box::new(error)))?;
                self.session.text(text).await
            }
            OutboundFrame::Ping => self.session.ping(b"").await,
            OutboundFrame::Pong(payload) => self.session.pong(&payload).await,
            OutboundFrame::Close { code, reason } => {
                let reason = CloseReason {
                    code: CloseCode::from(code),
                    description: (!reason.is_empty()).then_some(reason),
                };
                self.session.clone().close(Some(reason)).await
            }
        };
        sent.map_err(|_| SocketError::Closed)
    }
}
