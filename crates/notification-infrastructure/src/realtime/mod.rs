//! Real-time delivery over WebSocket, with no web framework in sight: the web
//! layer adapts its socket to the application's `ClientSocket` port.
//!
//! The path of one push, in order:
//! - [`pusher`]: [`Pusher`], the hub's subscriber on the event bus, builds the
//!   contract's message from a domain event, serializes it once, and hands it
//!   to the hub;
//! - [`hub`]: [`Hub`], the sharded registry of live connections per user,
//!   puts the change in the user's `seq` order (`sequence`: repeats dropped,
//!   a change ahead of a gap held) and queues it for each of the user's
//!   connections ([`Registration`]);
//! - [`healer`]: [`Healer`] reads from the change log what a user's stream
//!   on this node is missing (a gap, a lost publish found by its periodic
//!   check, a gap of the event bus), once per user;
//! - `mailbox`: each connection's bounded queue (full → read on from the log);
//! - `conversation`: the connection's whole conversation, which writes it to
//!   the socket (each `seq` once), replays from the change log, answers the
//!   client, pings, and closes on silence, token expiry, shutdown
//!   or resync (after the event bus lost events that the log could not heal,
//!   [`Hub::resync_all`] → 1012).
//!
//! And of one connection: [`gate`] ([`HubGate`], the application's
//! `ConnectionGate`) admits it into the hub and starts its conversation.
//!
//! Around them: `replay` (a replay from the change log, step by step:
//! `since_seq`, `since`, a connection's starting point, a gap), `outbound` (the
//! one encoding of a server message and the one bounded write),
//! `client_message` (size limits and parsing of client messages),
//! `auth_budget` (in-band `auth` messages per minute), `deadlines` (one timer
//! for pings, silence and expiry) and [`close`] ([`CloseReason`] and its
//! close frames).

mod auth_budget;
mod client_message;
pub mod close;
mod conversation;
mod deadlines;
pub mod gate;
pub mod healer;
pub mod hub;
mod mailbox;
mod outbound;
pub mod pusher;
mod replay;
mod sequence;

#[cfg(test)]
mod conversation_tests;
#[cfg(test)]
mod fake_socket;
#[cfg(test)]
mod replay_tests;

pub use close::CloseReason;
pub use gate::HubGate;
pub use healer::{Healer, GAP_GRACE};
pub use hub::{Departure, Handed, Hub, Registration, SHARDS};
pub use pusher::Pusher;
pub use replay::REPLAY_PAGE;
