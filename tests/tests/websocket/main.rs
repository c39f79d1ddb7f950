//! End-to-end tests of `/ws/notifications` (contract §5) with a real
//! WebSocket client against the real server on a random port.

mod connect;
mod delivery;
mod lifecycle;
mod protocol;
mod resume;
mod stored_not_pushed;
mod subprotocol;
