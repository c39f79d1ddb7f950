//! The HTTP contract in detail (authentication matrix, validation, errors,
//! idempotency, operations endpoints) against the real server on SQLite, on a
//! random port. One test binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod routing;

pub use notification_e2e::keys::*;
pub use notification_e2e::{spawn_app, Backend, Reply, TestApp, TEST_SECRET};
pub use reqwest::Method;

/// A server on a fresh SQLite database with the test secret.
pub async fn app() -> TestApp {
    spawn_app(Backend::Sqlite).await
}
