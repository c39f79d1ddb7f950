//! # notification-e2e
//!
//! The one test harness for HTTP and WebSocket tests: [`spawn_app`] builds the
//! real server (the same `Application` the binary runs) on a random port
//! against a fresh SQLite file or a fresh PostgreSQL database, and [`TestApp`]
//! offers one method per endpoint so tests read like the behaviour they check
//! ([`Reply`] for whole answers; [`spawn_app_with_auth`] for other token
//! settings).
//!
//! PostgreSQL tests need the server of `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it is unreachable they
//! fail, they never skip.

// Test support: a panic here is a failed test, with the message saying why.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod jwks;
pub mod keys;
pub mod logs;
pub mod reply;
pub mod tokens;
pub mod ws;

pub use app::{
    spawn_app, spawn_app_intercepted, spawn_app_with, spawn_app_with_auth, spawn_app_with_settings,
    Backend, TestApp,
};
pub use reply::Reply;
pub use tokens::{TokenKind, TEST_SECRET};

/// Runs each listed `async fn(Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}
