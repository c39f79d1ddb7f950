//! `GET /ws/notifications`: the WebSocket face of real-time delivery.
//!
//! - [`upgrade`]: the handler. Everything that can refuse a connection happens
//!   before the upgrade, with an HTTP status: origin (403), token (401),
//!   per-user limit (429), shutting down (503).
//! - [`actix_socket`]: adapts actix-ws's session and message stream to the
//!   application's transport port, so the connection loop (in infrastructure)
//!   knows nothing of actix.
//! - [`origin`]: the `ALLOWED_ORIGINS` rule.
//! - [`replay`]: `?since=`: the missed notifications, oldest first, before the
//!   live stream.
//! - [`session_auth`]: the JWT verifier as the application's
//!   `SessionAuthenticator`, for in-band `auth` refreshes.

pub mod actix_socket;
pub mod origin;
pub mod replay;
pub mod session_auth;
pub mod upgrade;

pub use origin::AllowedOrigins;
pub use upgrade::{upgrade, WebSocketOptions};
