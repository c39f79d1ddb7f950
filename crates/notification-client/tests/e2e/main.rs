//! The client SDK against the real server (spawned in-process by
//! notification-e2e), on SQLite and on PostgreSQL, and with a Redis event bus
//! that goes away.

mod bus_gap;
mod dedupe;
mod rest;
mod resume;
mod support;
mod tokens;
