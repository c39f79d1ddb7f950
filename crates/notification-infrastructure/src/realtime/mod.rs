//! Real-time delivery over WebSocket, with no web framework in sight: the web
//! layer adapts its socket to the application's `ClientSocket` port.
//!
//! The path of one push, in order:
//! - [`push`]: [`HubPushService`] builds the contract's message from a domain
//!   event, serializes it once, and hands it to the hub;
//! - [`hub`]: [`Hub`], the sharded registry of live connections per user,
//!   queues it for each of the user's connections ([`Registration`]);
//! - `mailbox`: each connection's bounded queue (overflow → 1013);
//! - [`pump`]: [`run_connection`], the per-connection loop that writes it to
//!   the socket, answers the client, pings, and closes on silence, token
//!   expiry, overflow, shutdown or resync (after the event bus lost events,
//!   [`Hub::resync_all`] → 1012).
//!
//! Around them: [`manager`] ([`HubConnectionManager`], the application's
//! `ConnectionManager`), `client_message` (size limits and parsing of client
//! messages), `deadlines` (one timer for pings, silence and expiry) and
//! [`close`] ([`CloseReason`] and its close frames).

mod client_message;
pub mod close;
mod deadlines;
pub mod hub;
mod mailbox;
pub mod manager;
pub mod pump;
pub mod push;

#[cfg(test)]
mod fake_socket;
#[cfg(test)]
mod pump_tests;

pub use close::CloseReason;
pub use hub::{Hub, Registration, SHARDS};
pub use manager::HubConnectionManager;
pub use pump::run_connection;
pub use push::HubPushService;
