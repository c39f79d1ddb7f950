//! `GET /ws/notifications`: the WebSocket face of real-time delivery.
//!
//! - [`upgrade`]: the handler. It only admits and hands over: everything that
//!   can refuse a connection happens before the upgrade, cheapest first, with
//!   an HTTP status: origin (403), upgrade headers (400), token (401), a
//!   malformed `since` or `since_seq`, or both (400), per-user limit (429),
//!   shutting down (503). The
//!   connection's conversation (its replay included) runs in the hub.
//! - [`actix_socket`]: adapts actix-ws's session and message stream to the
//!   application's transport port, so the conversation (in infrastructure)
//!   knows nothing of actix.
//! - [`origin`]: the `ALLOWED_ORIGINS` rule.
//! - [`session_auth`]: the JWT verifier as the application's
//!   `SessionAuthenticator`, for in-band `auth` refreshes.

pub mod actix_socket;
pub mod origin;
pub mod session_auth;
pub mod upgrade;

pub use origin::AllowedOrigins;
pub use upgrade::{upgrade, WebSocketOptions, SUBPROTOCOL};
