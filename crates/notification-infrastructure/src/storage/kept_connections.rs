//! PostgreSQL connections that the batch writers keep between batches.
//!
//! sqlx's pool checks a connection with a round trip to the server (a ping)
//! when it hands it out and again when it takes it back. For a batch that is
//! one statement, that is three round trips instead of one; under load most
//! batches are small, so the checks were most of the traffic to PostgreSQL.
//! A writer therefore keeps its connection after a successful batch, and the
//! next writer takes it without a check. A kept connection that died while
//! idle (the server restarted) fails its next statement; the writer then
//! drops it and writes the batch once more on a connection from the pool.

use std::sync::Mutex;

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

pub(crate) struct KeptConnections {
    pool: PgPool,
    /// `None` once closed: from then on connections go back to the pool.
    kept: Mutex<Option<Vec<PoolConnection<Postgres>>>>,
    max_kept: usize,
}

/// A connection for one batch, and whether it was kept (not checked).
pub(crate) struct Checkout {
    pub(crate) connection: PoolConnection<Postgres>,
    pub(crate) was_kept: bool,
}

impl KeptConnections {
    /// Keeps at most `max_kept` connections of `pool` (one per writer).
    pub(crate) fn new(pool: PgPool, max_kept: usize) -> Self {
        Self {
            pool,
            kept: Mutex::new(Some(Vec::with_capacity(max_kept))),
            max_kept,
        }
    }

    /// A kept connection if there is one, else one from the pool.
    pub(crate) async fn take(&self) -> Result<Checkout, sqlx::Error> {
        if let Some(connection) = self.lock().as_mut().and_then(Vec::pop) {
            return Ok(Checkout {
                connection,
                was_kept: true,
            });
        }
        self.checked_out_from_pool().await
    }

    /// A connection from the pool, checked by it.
    pub(crate) async fn checked_out_from_pool(&self) -> Result<Checkout, sqlx::Error> {
        Ok(Checkout {
            connection: self.pool.acquire().await?,
            was_kept: false,
        })
    }

    /// Keeps `connection` for the next batch (or gives it back to the pool
    /// when enough are kept or [`Self::release_all`] was called).
    pub(crate) fn keep(&self, connection: PoolConnection<Postgres>) {
        let mut kept = self.lock();
        if let Some(kept) = kept.as_mut().filter(|k| k.len() < self.max_kept) {
            kept.push(connection);
        }
        // Otherwise dropping it returns it to the pool.
    }

    /// Gives every kept connection back to the pool and keeps none from now
    /// on: `Pool::close` waits for every connection to come back.
    pub(crate) fn release_all(&self) {
        let released = self.lock().take();
        drop(released);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<PoolConnection<Postgres>>>> {
        // Pushes and pops only: consistent whatever a panicking holder did.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
