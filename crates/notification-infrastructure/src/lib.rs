//! # notification-infrastructure
//!
//! The adapters that give the domain's and the application's ports a real
//! world to talk to, on top of one technology each. Nothing here holds
//! business rules.
//!
//! - [`background`]: [`background::BackgroundTasks`], the one lifetime of every
//!   task the service runs beside its requests.
//! - [`storage`]: the `NotificationRepository` port on SQLite (the zero-setup
//!   default) and PostgreSQL, with [`storage::DatabaseUrl`] to pick one,
//!   [`storage::connect`] to open it (a [`storage::Storage`]: the port and its
//!   `close`) and [`storage::migrate`] to prepare its schema;
//!   [`storage::spawn_purger`] forgets expired idempotency keys and change log rows;
//!   [`storage::spawn_read_all_materializer`] rewrites what each read-all covers.
//! - [`events`]: event buses implementing `EventPublisher`; the
//!   [`events::InProcessEventBus`] hands each event to this process's subscribers.
//! - [`realtime`]: WebSocket delivery: the hub of live connections, its
//!   pusher (an event subscriber), its connection gate and each connection's
//!   conversation.
//! - [`tls`]: the process's one rustls crypto provider, a private CA
//!   (`TLS_CA_FILE`), and telling a certificate refusal from an outage.
//! - `testing` (feature `test-support`): fresh PostgreSQL and SQLite databases for
//!   this crate's and the end-to-end tests, and private Redis and PostgreSQL
//!   servers for outage tests.

pub mod background;
pub mod events;
pub mod realtime;
pub mod storage;
pub mod tls;

// Test support: a panic there is a failed test, with the message saying why.
#[cfg(feature = "test-support")]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod testing;
