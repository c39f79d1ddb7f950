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
//!   [`storage::spawn_purger`] forgets expired idempotency keys and change log rows.
//! - [`events`]: event buses implementing `EventPublisher`; the
//!   [`events::InProcessEventBus`] hands each event to this process's subscribers.
//! - [`realtime`]: WebSocket delivery: the hub of live connections, its
//!   pusher (an event subscriber), its connection gate and each connection's
//!   conversation.
//! - `testing` (feature `test-support`): fresh PostgreSQL and SQLite databases for
//!   this crate's and the end-to-end tests, and private Redis and PostgreSQL
//!   servers for outage tests.

pub mod background;
pub mod events;
pub mod realtime;
pub mod storage;

// Test support: a panic there is a failed test, with the message saying why.
#[cfg(feature = "test-support")]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod testing;
