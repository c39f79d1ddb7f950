//! # notification-infrastructure
//!
//! The adapters that give the domain's ports a real world to talk to. Nothing
//! here holds business rules: each module implements a port of
//! `notification-domain` on top of one technology.
//!
//! - [`storage`]: the `NotificationRepository` port on SQLite (the zero-setup
//!   default) and PostgreSQL, with [`storage::DatabaseUrl`] to pick one,
//!   [`storage::connect`] to open it and [`storage::migrate`] to prepare its schema.
//! - [`events`]: event buses implementing `EventPublisher`; the
//!   [`events::InProcessEventBus`] hands each event to this process's subscribers.
//! - `testing` (feature `test-support`): fresh PostgreSQL and SQLite databases for
//!   this crate's and the end-to-end tests.

pub mod events;
pub mod storage;

#[cfg(feature = "test-support")]
pub mod testing;
