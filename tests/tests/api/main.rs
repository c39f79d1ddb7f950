//! End-to-end tests of the REST API against the real server on a random port,
//! each on SQLite and on PostgreSQL. One test binary, zero2prod style.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod auth;
mod batch;
mod changes_feed;
mod create;
mod health;
mod idempotency;
mod isolation;
mod listing;
mod restart;
mod transitions;
