//! The client SDK against the real server (spawned in-process by
//! notification-e2e), on SQLite and on PostgreSQL, and with a Redis event bus
//! that goes away.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod bus_gap;
mod close;
mod dedupe;
mod gap;
mod https;
mod pages;
mod publish;
mod publish_retry;
mod rest;
mod resume;
mod support;
mod tokens;
