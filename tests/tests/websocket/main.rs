//! End-to-end tests of `/ws/notifications` (contract §5) with a real
//! WebSocket client against the real server on a random port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod connect;
mod delivery;
mod embedded;
mod lifecycle;
mod protocol;
mod resume;
mod stored_not_pushed;
mod subprotocol;
