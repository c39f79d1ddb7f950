//! Real-time delivery: the ports between the use cases, the hub that holds live
//! WebSocket connections, and the web layer that accepts them.
//!
//! The path of one pushed change reads in this order:
//!
//! - [`event_handler`]: [`NotificationEventHandler`], the domain
//!   [`EventSubscriber`](notification_domain::EventSubscriber) that turns each
//!   event into a push.
//! - [`push`]: [`PushService`], the port that reaches a user's open sockets.
//!
//! And the path of one connection:
//!
//! - [`connections`]: [`ConnectionManager`], the only thing the web layer sees
//!   of the hub: reserve a slot before the upgrade ([`Admission`]), then serve
//!   the socket until it closes.
//! - [`socket`]: [`ClientSocket`], the transport port the connection loop talks
//!   to, with no web types in it; the web layer adapts its WebSocket to it.
//! - [`session_auth`]: [`SessionAuthenticator`], which checks the token of an
//!   in-band `{"type":"auth"}` refresh.
//! - [`settings`]: [`RealtimeSettings`], the contract's `WS_*` settings.
//!
//! With the `mocks` feature, mockall mocks of the ports are exported for other
//! crates' tests.

pub mod connections;
pub mod event_handler;
pub mod push;
pub mod session_auth;
pub mod settings;
pub mod socket;

pub use connections::{
    Admission, AdmissionError, AdmittedSlot, ConnectionFuture, ConnectionManager,
};
pub use event_handler::NotificationEventHandler;
pub use push::PushService;
pub use session_auth::{SessionAuthenticator, SessionClaims};
pub use settings::RealtimeSettings;
pub use socket::{ClientSocket, InboundFrame, OutboundFrame, SharedText, SocketError};

#[cfg(any(test, feature = "mocks"))]
pub use connections::MockConnectionManager;
#[cfg(any(test, feature = "mocks"))]
pub use push::MockPushService;
#[cfg(any(test, feature = "mocks"))]
pub use session_auth::MockSessionAuthenticator;
