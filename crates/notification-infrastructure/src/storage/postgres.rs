//! PostgreSQL storage, for deployments with several nodes.

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use super::database_url::DatabaseUrl;
use super::error::StorageError;
use super::group_commit::GroupCommit;
use super::kept_connections::KeptConnections;
use super::postgres_batch::PostgresBatchWriter;
use super::repository::{ReadDialect, SqlRepository};
use super::sql_repository::{BEGIN_SNAPSHOT_POSTGRES, LATEST_SEQS_POSTGRES, LIST_INBOX};
use super::write_limits::WriteLimits;
use crate::background::BackgroundTasks;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a connection. Short, so that while the
/// database is down requests fail fast (503) instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections per node.
const MAX_CONNECTIONS: u32 = 16;

/// Batches of new notifications written at once: while one batch is on its
/// way to the server, the next one is gathered and sent. A few suffice; each
/// holds one connection only while its statement runs.
const BATCH_WRITERS: usize = 4;

/// Notifications in a PostgreSQL database.
///
/// Recovers by itself when the database comes back after an outage: the pool
/// checks each connection before handing it out (sqlx's default
/// `test_before_acquire`), drops dead ones and opens new ones on demand. New
/// notifications are written in batches (group commit, see `group_commit`).
pub struct PostgresNotificationRepository {
    pool: PgPool,
    /// The port itself, shared by both databases.
    port: Arc<SqlRepository<Postgres>>,
    /// The batch writers' connections, given back on `close`.
    batch_connections: Arc<KeptConnections>,
}

impl PostgresNotificationRepository {
    /// A repository over a pool on an already migrated database; its
    /// writers run under `tasks`. [`super::connect`] opens and migrates one.
    pub fn new(pool: PgPool, tasks: &BackgroundTasks) -> Self {
        Self::with_limits(pool, WriteLimits::default(), tasks)
    }

    /// [`Self::new`] with other bounds on the queue of writes.
    pub fn with_limits(pool: PgPool, limits: WriteLimits, tasks: &BackgroundTasks) -> Self {
        let batch_connections = Arc::new(KeptConnections::new(pool.clone(), BATCH_WRITERS));
        let writes = GroupCommit::new(
            PostgresBatchWriter::new(Arc::clone(&batch_connections)),
            BATCH_WRITERS,
            limits,
            tasks,
        );
        Self {
            port: Arc::new(SqlRepository::new(
                pool.clone(),
                writes,
                ReadDialect {
                    list_inbox: LIST_INBOX,
                    begin_snapshot: BEGIN_SNAPSHOT_POSTGRES,
                    latest_seqs: LATEST_SEQS_POSTGRES,
                },
            )),
            pool,
            batch_connections,
        }
    }

    /// Connects and migrates; its writers run under `tasks`. Fails when the
    /// database cannot be reached now.
    pub(crate) async fn open(
        options: &PgConnectOptions,
        url: &DatabaseUrl,
        limits: WriteLimits,
        tasks: &BackgroundTasks,
    ) -> Result<Self, StorageError> {
        let connect_error = |source| StorageError::Connect {
            url: url.to_string(),
            source,
        };
        // sqlx holds an advisory lock while migrating: nodes starting together
        // apply each migration once. On a connection of its own, without the
        // pool's lock timeout: a node waits for another's migration however
        // long it takes.
        let mut migrating = PgConnection::connect_with(options)
            .await
            .map_err(connect_error)?;
        MIGRATOR
            .run(&mut migrating)
            .await
            .map_err(|source| StorageError::Migrate {
                url: url.to_string(),
                source,
            })?;
        // Closing is a courtesy to the server; the migration has committed.
        let _ = migrating.close().await;
        let lock_timeout = format!("{}ms", limits.lock_wait.as_millis().max(1));
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone().options([("lock_timeout", lock_timeout)]))
            .await
            .map_err(connect_error)?;
        Ok(Self::with_limits(pool, limits, tasks))
    }

    /// The port.
    pub fn port(&self) -> Arc<SqlRepository<Postgres>> {
        Arc::clone(&self.port)
    }

    /// How many writes wait for a batch (see `WriteLimits`).
    pub fn queued_writes(&self) -> usize {
        self.port.queued_writes()
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.batch_connections.release_all();
        self.pool.close().await;
    }
}
