//! The HTTP contract in detail (authentication matrix, validation, errors,
//! idempotency, operations endpoints, CORS, the served inbox page) against the
//! real server on SQLite, on a random port. One test binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod auth;
mod cors;
mod create;
mod idempotency;
mod jwks;
mod operations;
mod reads;
mod routing;
mod status_changes;
mod web_page;

pub use notification_e2e::keys::*;
pub use notification_e2e::ws::WsClient;
pub use notification_e2e::{
    spawn_app, spawn_app_with, spawn_app_with_auth, spawn_app_with_settings, Backend, Reply,
    TestApp, TEST_SECRET,
};
use notification_infrastructure::testing::{fresh_postgres_database, PrivatePostgres};
pub use reqwest::Method;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// A server on a fresh SQLite database with the test secret.
pub async fn app() -> TestApp {
    spawn_app(Backend::Sqlite).await
}

/// A server on a fresh SQLite database whose token settings are only `flags`.
pub async fn app_with_auth(flags: &[&str]) -> TestApp {
    spawn_app_with_auth(&Backend::Sqlite.database_url().await, flags).await
}

/// A server whose database is down: a private PostgreSQL of this test's own
/// (stopping the shared one would break every other test), stopped once the
/// server has started. Keep the returned database for the test's length.
pub async fn app_with_database_down() -> (TestApp, PrivatePostgres) {
    let mut database = tokio::task::block_in_place(PrivatePostgres::start);
    let app = spawn_app_with(&database.url(), &[]).await;
    tokio::task::block_in_place(|| database.stop());
    (app, database)
}

/// What a broken database says (the table is gone); must never reach a client.
pub const INTERNAL_CAUSE: &str = "relation \"notifications\" does not exist";

/// A server whose database answers with an error of its own: a fresh
/// PostgreSQL database of this test's own whose table is renamed away once
/// the server has migrated it.
pub async fn app_with_database_broken() -> TestApp {
    let url = fresh_postgres_database().await;
    let app = spawn_app_with(&url, &[]).await;
    let mut connection = PgConnection::connect(&url).await.unwrap();
    connection
        .execute("ALTER TABLE notifications RENAME TO notifications_gone")
        .await
        .unwrap();
    app
}

/// Asserts `socket` (of `user`) was sent nothing more so far: a marker
/// notification created now must be the next message, as pushes to one
/// socket keep their order.
pub async fn assert_no_more_pushes(app: &TestApp, socket: &mut WsClient, user: Uuid) {
    let marker = app.create_for(user, "marker").await;
    let next = socket.next_json().await;
    assert_eq!(next["type"], "notification", "unexpected push {next}");
    assert_eq!(next["data"], marker, "a push arrived before the marker");
}
