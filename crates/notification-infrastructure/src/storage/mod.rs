//! Storage: the domain's `NotificationRepository` port on SQLite or PostgreSQL.
//!
//! [`DatabaseUrl`] picks the database, [`connect`] opens it (applying pending
//! migrations) and hands back the port, [`migrate`] only applies migrations.
//!
//! - `database_url`: parsing `DATABASE_URL`; a password is never shown.
//! - `sqlite` / `postgres`: pools, settings and migrations of each database;
//!   `sqlite_checkpointer` keeps SQLite's log checkpoints off the writer.
//! - `sql_repository`: the SQL and the port's method bodies, shared by both.
//! - `group_commit`: the bounded queue ([`WriteLimits`]) through which
//!   creates are written in batches;
//!   `sqlite_batch` / `postgres_batch` write one batch on each database, and
//!   `unread_increments` is the counting they share; `kept_connections` are
//!   the PostgreSQL writers' connections, kept between batches.
//! - `row`: the one mapping from a stored row to a `Notification`.
//! - `idempotency_row`: the same for a recorded idempotency key.
//! - `idempotency_purger`: the background task that forgets expired keys.
//! - `error`: start-up errors and the one mapping of sqlx errors onto the port.
//!
//! The schemas and the reasons for each index are in `migrations/`.

mod database_url;
mod error;
mod group_commit;
mod idempotency_purger;
mod idempotency_row;
mod kept_connections;
mod postgres;
mod postgres_batch;
mod row;
mod sql_repository;
mod sqlite;
mod sqlite_batch;
mod sqlite_checkpointer;
mod unread_increments;

use std::sync::Arc;

use notification_domain::NotificationRepository;

pub use database_url::{DatabaseUrl, InvalidDatabaseUrl};
pub use error::StorageError;
pub use group_commit::WriteLimits;
pub use idempotency_purger::spawn_idempotency_purger;
pub use postgres::PostgresNotificationRepository;
pub use sqlite::SqliteNotificationRepository;

use database_url::Target;

/// Opens the database, applies pending migrations and returns the repository.
///
/// SQLite: the folder and the file are created if missing. PostgreSQL: the
/// database must be reachable now; later outages are answered with
/// `RepositoryError::Unavailable` and recovered from without a restart.
pub async fn connect(url: &DatabaseUrl) -> Result<Arc<dyn NotificationRepository>, StorageError> {
    connect_with_limits(url, WriteLimits::default()).await
}

/// [`connect`] with other bounds on the queue of writes.
pub async fn connect_with_limits(
    url: &DatabaseUrl,
    limits: WriteLimits,
) -> Result<Arc<dyn NotificationRepository>, StorageError> {
    Ok(match url.target() {
        Target::Sqlite(location) => {
            Arc::new(SqliteNotificationRepository::open(location, url, limits).await?)
        }
        Target::Postgres(options) => {
            Arc::new(PostgresNotificationRepository::open(options, url, limits).await?)
        }
    })
}

/// Applies pending migrations and closes the connections again
/// (`notification-api migrate`).
pub async fn migrate(url: &DatabaseUrl) -> Result<(), StorageError> {
    match url.target() {
        Target::Sqlite(location) => {
            SqliteNotificationRepository::open(location, url, WriteLimits::default())
                .await?
                .close()
                .await
        }
        Target::Postgres(options) => {
            PostgresNotificationRepository::open(options, url, WriteLimits::default())
                .await?
                .close()
                .await
        }
    }
    Ok(())
}
