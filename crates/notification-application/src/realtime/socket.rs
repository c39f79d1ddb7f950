//! The transport port of a live connection: frames in, frames out, no web types.
//!
//! The web layer adapts its WebSocket (actix-ws) to [`ClientSocket`]; the
//! connection loop in infrastructure talks only to this trait, so neither side
//! knows the other.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use notification_domain::BoxError;
use thiserror::Error;

/// A frame received from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundFrame {
    Text(String),
    /// Binary frames carry nothing in this protocol; their content is
    /// dropped, only its size is kept (above `WS_MAX_MESSAGE_SIZE` → 1009).
    Binary {
        size: usize,
    },
    /// A protocol-level ping; answered with a pong carrying the same payload.
    Ping(Vec<u8>),
    Pong,
    Close,
    /// The transport refused a message larger than its own frame or
    /// continuation limit (for actix-ws, `ProtocolError::Overflow`); closes
    /// with 1009 like any message over the size limit.
    TooLarge,
}

/// A frame to send to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundFrame {
    Text(SharedText),
    /// A protocol-level ping (heartbeat), with an empty payload.
    Ping,
    Pong(Vec<u8>),
    Close {
        code: u16,
        reason: String,
    },
}

/// A serialized JSON message, cheap to clone: a message pushed to a user is
/// serialized once and the same bytes are shared by all of the user's sockets.
///
/// Always valid UTF-8 (it can only be built from `String` or `&'static str`).
/// [`SharedText::to_bytes`] hands the bytes on without copying, e.g. to
/// `bytestring::ByteString::try_from`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SharedText(Bytes);

impl SharedText {
    pub fn as_str(&self) -> &str {
        // Cannot fail: every constructor takes UTF-8 text.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, shared (a reference count increment, no copy).
    pub fn to_bytes(&self) -> Bytes {
        self.0.clone()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SharedText {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&'static str> for SharedText {
    fn from(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }
}

impl fmt::Debug for SharedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The transport failed; the connection cannot be used any more.
#[derive(Debug, Error)]
pub enum SocketError {
    /// The peer or the transport has closed the connection.
    #[error("the connection is closed")]
    Closed,
    /// A protocol error or I/O failure reported by the transport.
    #[error("websocket transport failed")]
    Transport(#[source] BoxError),
}

/// One client's WebSocket, as the connection loop sees it.
///
/// `?Send` because actix-ws's message stream is not `Send`: the web layer runs
/// the connection on its own worker thread (`actix_web::rt::spawn`).
#[async_trait(?Send)]
pub trait ClientSocket {
    /// The next frame from the client; `None` once the stream has ended.
    ///
    /// Must be cancel-safe: the connection loop drops a pending `recv` when
    /// something else (a push, a timer) happens first, and calls it again.
    async fn recv(&mut self) -> Option<Result<InboundFrame, SocketError>>;

    /// Writes one frame. The caller bounds it with a timeout.
    async fn send(&mut self, frame: OutboundFrame) -> Result<(), SocketError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_text_clones_share_the_same_bytes() {
        let text = SharedText::from(String::from(r#"{"type":"pong","timestamp":1}"#));
        let copy = text.clone();
        assert_eq!(text.as_bytes().as_ptr(), copy.as_bytes().as_ptr());
        assert_eq!(copy.as_str(), r#"{"type":"pong","timestamp":1}"#);
        assert_eq!(text.to_bytes().as_ptr(), text.as_bytes().as_ptr());
    }
}
