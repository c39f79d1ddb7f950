//! Storage: the domain's `NotificationRepository` port on SQLite or PostgreSQL.
//!
//! [`DatabaseUrl`] picks the database, [`connect`] opens it (applying pending
//! migrations) and hands back a [`Storage`]: the port, and the handle that
//! closes it; [`migrate`] only applies migrations.
//!
//! - `database_url`: parsing `DATABASE_URL`; a password is never shown.
//! - `sqlite` / `postgres`: connections, settings and migrations of each
//!   database; `sqlite_checkpointer` keeps SQLite's log checkpoints off the
//!   writer.
//! - `repository`: [`SqlRepository`], the port, written once for both;
//!   `sql_repository`: the SQL text both run.
//! - `write`: every write as one value ([`write::Write`]) and its answer;
//!   `write_port`: the port's writes as such values.
//! - `group_commit`: the bounded queue through which every write goes, in
//!   batches, within the [`WriteLimits`] of `write_limits`, written by tasks
//!   (PostgreSQL) or by one thread (SQLite, `writer_thread`); `write_batch`
//!   runs one batch in one transaction (counters first, ascending), over
//!   the shared SQL (`sql_statements` on sqlx for PostgreSQL,
//!   `sqlite_statements` on SQLite's writer connection) and `sqlite_batch` /
//!   `postgres_batch` (the statements each database writes its own way;
//!   `postgres_creates`: a PostgreSQL batch of plain creates as one
//!   statement, without a transaction around it);
//!   `sqlite_writer` is SQLite's writer (a rusqlite connection on a thread of
//!   its own, `sqlite_values` the values it binds and reads);
//!   `kept_connections` are the PostgreSQL writers' connections, kept between
//!   batches.
//! - `row`: the one mapping from a stored row to a `Notification`.
//! - `idempotency_row`: the same for a recorded idempotency key.
//! - `purger`: the background task that forgets expired keys and log rows.
//! - `read_watermark`: how a read-all marks every unread notification read
//!   without touching their rows; `read_all_materializer`: the background
//!   task that later rewrites those rows, in bounded chunks.
//! - `change_log`: the change log's rows, written and read back as events.
//! - `error`: start-up errors and the one mapping of sqlx errors onto the port.
//!
//! The schemas and the reasons for each index are in `migrations/`.

mod change_log;
mod database_url;
mod error;
mod group_commit;
mod idempotency_row;
mod kept_connections;
mod postgres;
mod postgres_batch;
mod postgres_creates;
mod purger;
mod read_all_materializer;
mod read_watermark;
mod repository;
mod row;
mod sql_repository;
mod sql_statements;
mod sqlite;
mod sqlite_batch;
mod sqlite_checkpointer;
mod sqlite_statements;
mod sqlite_values;
mod sqlite_writer;
mod write;
mod write_batch;
mod write_limits;
mod write_port;

use std::sync::Arc;

use notification_domain::NotificationRepository;

use crate::background::BackgroundTasks;

pub use database_url::{DatabaseUrl, InvalidDatabaseUrl};
pub use error::StorageError;
pub use postgres::PostgresNotificationRepository;
pub use purger::spawn_purger;
pub use read_all_materializer::{spawn_read_all_materializer, MATERIALIZE_CHUNK};
pub use repository::SqlRepository;
pub use sqlite::SqliteNotificationRepository;
pub use write_limits::WriteLimits;

use database_url::Target;

/// An open database: the repository port, and the handle that closes it.
///
/// Cheap to clone (clones share the connections). Its own tasks (writers, and
/// SQLite's checkpointer) run under the [`BackgroundTasks`] given to
/// [`connect`]. Close it last at shutdown, after the server has stopped and
/// [`BackgroundTasks::shutdown`] has returned (so every queued write has been
/// answered and the checkpointer has stopped): on SQLite
/// the last connection to close checkpoints the write-ahead log into the
/// database file.
#[derive(Clone)]
pub struct Storage {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<SqliteNotificationRepository>),
    Postgres(Arc<PostgresNotificationRepository>),
}

impl Storage {
    /// The port, for the service (and anything else that reads or writes).
    pub fn repository(&self) -> Arc<dyn NotificationRepository> {
        match &self.backend {
            Backend::Sqlite(repository) => repository.port(),
            Backend::Postgres(repository) => repository.port(),
        }
    }

    /// How many writes wait for a batch (see [`WriteLimits`]).
    pub fn queued_writes(&self) -> usize {
        match &self.backend {
            Backend::Sqlite(repository) => repository.queued_writes(),
            Backend::Postgres(repository) => repository.queued_writes(),
        }
    }

    /// One pass of the read-all materializer (what
    /// [`spawn_read_all_materializer`]'s task runs): rewrites the rows every
    /// pending read-all covers as stored READ, `chunk` rows per write;
    /// returns the rows each chunk rewrote, in order. Nothing any reader
    /// sees changes.
    pub async fn materialize_read_alls(
        &self,
        chunk: u32,
    ) -> Result<Vec<u64>, notification_domain::RepositoryError> {
        match &self.backend {
            Backend::Sqlite(repository) => {
                read_all_materializer::materialize_pending(&*repository.port(), chunk).await
            }
            Backend::Postgres(repository) => {
                read_all_materializer::materialize_pending(&*repository.port(), chunk).await
            }
        }
    }

    /// Notified after each read-all that read something.
    fn read_alls(&self) -> read_all_materializer::ReadAllSignal {
        match &self.backend {
            Backend::Sqlite(repository) => repository.port().read_alls(),
            Backend::Postgres(repository) => repository.port().read_alls(),
        }
    }

    /// Closes the connections, waiting for those in use to come back. Later
    /// calls of the port answer `RepositoryError::Unavailable`.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(repository) => repository.close().await,
            Backend::Postgres(repository) => repository.close().await,
        }
    }
}

/// Opens the database and applies pending migrations.
///
/// SQLite: the folder and the file are created if missing. PostgreSQL: the
/// database must be reachable now; later outages are answered with
/// `RepositoryError::Unavailable` and recovered from without a restart.
///
/// The storage's own tasks run under `tasks`: shut it down before
/// [`Storage::close`].
pub async fn connect(url: &DatabaseUrl, tasks: &BackgroundTasks) -> Result<Storage, StorageError> {
    connect_with_limits(url, WriteLimits::default(), tasks).await
}

/// [`connect`] with other bounds on the queue of writes.
pub async fn connect_with_limits(
    url: &DatabaseUrl,
    limits: WriteLimits,
    tasks: &BackgroundTasks,
) -> Result<Storage, StorageError> {
    let backend = match url.target() {
        Target::Sqlite(location) => Backend::Sqlite(Arc::new(
            SqliteNotificationRepository::open(location, url, limits, tasks).await?,
        )),
        Target::Postgres(options) => Backend::Postgres(Arc::new(
            PostgresNotificationRepository::open(options, url, limits, tasks).await?,
        )),
    };
    Ok(Storage { backend })
}

/// Applies pending migrations and closes the connections again
/// (`notification-api migrate`).
pub async fn migrate(url: &DatabaseUrl) -> Result<(), StorageError> {
    // Tasks of its own: nothing else runs during a migration.
    let tasks = BackgroundTasks::new();
    let storage = connect(url, &tasks).await?;
    tasks.shutdown().await;
    storage.close().await;
    Ok(())
}
