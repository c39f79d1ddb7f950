//! Real-time delivery: the ports between the web layer and the hub that holds
//! live WebSocket connections.
//!
//! Pushing a change needs no port here: the hub's pusher subscribes to the
//! event bus itself (a domain `EventSubscriber`). The path of one connection:
//!
//! - [`gate`]: [`ConnectionGate`], the only thing the web layer sees of the
//!   hub: one `admit` call before the upgrade returns an
//!   [`AdmittedConnection`] or a typed [`Refusal`]; the admitted connection
//!   then runs its whole conversation on the socket.
//! - [`socket`]: [`ClientSocket`], the transport port the conversation talks
//!   to, with no web types in it; the web layer adapts its WebSocket to it.
//! - [`session_auth`]: [`SessionAuthenticator`], which checks the token of an
//!   in-band `{"type":"auth"}` refresh ([`TokenRejected`] when invalid).
//! - [`settings`]: [`RealtimeSettings`], the contract's `WS_*` settings.
//!
//! With the `mocks` feature, mockall mocks of the ports are exported for other
//! crates' tests.

pub mod gate;
pub mod session_auth;
pub mod settings;
pub mod socket;

pub use gate::{
    AdmittedConnection, ConnectionFuture, ConnectionGate, ConnectionRequest, Refusal, Resume,
};
pub use session_auth::{SessionAuthenticator, SessionClaims, TokenRejected};
pub use settings::RealtimeSettings;
pub use socket::{ClientSocket, InboundFrame, OutboundFrame, SharedText, SocketError};

#[cfg(any(test, feature = "mocks"))]
pub use gate::MockConnectionGate;
#[cfg(any(test, feature = "mocks"))]
pub use session_auth::MockSessionAuthenticator;
