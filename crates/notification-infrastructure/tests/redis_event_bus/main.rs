//! The Redis event bus against a real Redis: fan-out across nodes, decode
//! failures, shutdown, and recovery from an outage of a private
//! `redis-server`, and over TLS (`rediss://`) to a private one.
//!
//! Redis (at `TEST_REDIS_URL`, by default `redis://127.0.0.1:6379`) and the
//! `redis-server` program are required: without them these tests fail with a
//! message saying so, they never skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod backlog;
mod fan_out;
mod lifecycle;
mod outage;
mod support;
mod tls;
