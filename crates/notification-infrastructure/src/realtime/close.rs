//! [`CloseReason`]: why a connection ended, and the close frame that says so.

/// The reason text of the 1012 close (docs/protocol.md).
pub const RESYNC_REASON: &str = "events may have been missed; resume with since";

/// The reason text of the 1011 close (docs/protocol.md).
pub const REPLAY_FAILED_REASON: &str = "replay failed, reconnect with the same since";

/// Why a connection loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent a Close frame (answered with 1000).
    ClientClosed,
    /// The client's stream ended without a Close frame.
    StreamEnded,
    /// The transport reported a protocol error (answered with 1002).
    ProtocolError,
    /// Nothing arrived from the client for `pong_timeout`: 1000 "pong timeout".
    /// A normal closure, not 1001: the server is not going away, and the
    /// client may reconnect at once.
    PongTimeout,
    /// The token's `exp` passed: 1008 "token expired".
    TokenExpired,
    /// An `auth` refresh (or the serving claims) named another user: 1008.
    SubjectMismatch,
    /// A client message larger than allowed: 1009.
    MessageTooBig,
    /// The mailbox filled up before the connection knew the last `seq` it
    /// sent, so it cannot read on from the log: 1013 "slow consumer". (A
    /// connection that knows it reads on from the log instead.)
    SlowConsumer,
    /// The hub is shutting down: 1001 "server shutting down".
    ShuttingDown,
    /// Events may have been missed (the event bus was disconnected): 1012
    /// "events may have been missed; resume with since". The client
    /// reconnects at once with `since` and the replay fills the gap.
    Resync,
    /// Storage failed while looking up or replaying `since`: 1011 "replay
    /// failed, reconnect with the same since" (nothing is lost: the client
    /// retries with the same `since`).
    ReplayFailed,
    /// A write did not complete within `write_timeout`; dropped without a
    /// close frame (the socket is not taking writes).
    WriteTimeout,
    /// A write failed; the socket is gone.
    WriteFailed,
}

impl CloseReason {
    /// The close frame to send, if the socket can still take one.
    pub fn close_frame(self) -> Option<(u16, &'static str)> {
        match self {
            Self::ClientClosed => Some((1000, "")),
            Self::ProtocolError => Some((1002, "protocol error")),
            Self::PongTimeout => Some((1000, "pong timeout")),
            Self::TokenExpired => Some((1008, "token expired")),
            Self::SubjectMismatch => Some((1008, "subject mismatch")),
            Self::MessageTooBig => Some((1009, "message too big")),
            Self::SlowConsumer => Some((1013, "slow consumer")),
            Self::ShuttingDown => Some((1001, "server shutting down")),
            Self::Resync => Some((1012, RESYNC_REASON)),
            Self::ReplayFailed => Some((1011, REPLAY_FAILED_REASON)),
            Self::StreamEnded | Self::WriteTimeout | Self::WriteFailed => None,
        }
    }

    /// The `reason` label of `ws_connections_closed_total`.
    pub fn label(self) -> &'static str {
        match self {
            Self::ClientClosed => "client_closed",
            Self::StreamEnded => "stream_ended",
            Self::ProtocolError => "protocol_error",
            Self::PongTimeout => "pong_timeout",
            Self::TokenExpired => "token_expired",
            Self::SubjectMismatch => "subject_mismatch",
            Self::MessageTooBig => "message_too_big",
            Self::SlowConsumer => "slow_consumer",
            Self::ShuttingDown => "shutdown",
            Self::Resync => "resync",
            Self::ReplayFailed => "replay_failed",
            Self::WriteTimeout => "write_timeout",
            Self::WriteFailed => "write_failed",
        }
    }
}
