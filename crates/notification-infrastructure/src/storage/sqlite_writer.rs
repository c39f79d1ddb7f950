//! The SQLite writer: one `rusqlite` connection, owned by the group-commit
//! writer thread (`group_commit`), writing each batch in one transaction.
//!
//! Why its own connection and not sqlx's: sqlx drives each SQLite
//! connection from a worker thread of its own, so every statement of a batch
//! was a hand-off to that thread and back (five per batch: `BEGIN`, lock the
//! counters, insert, set the counters, `COMMIT`). Here the thread that forms
//! the batch runs the statements itself, as function calls, with prepared
//! statements cached on the connection. The decision and its figures are in
//! `docs/benchmarks/sqlite-driver.md`.
//!
//! [`SqliteTransaction`] is what `write_batch::apply` runs the batch on: the
//! statements that take a whole batch are in `sqlite_batch`, the others
//! (the SQL text both databases share) in `sqlite_statements`.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use notification_domain::RepositoryError;
use rusqlite::{CachedStatement, Connection, OpenFlags, Row, ToSql};

use super::error::sqlite_error;
use super::group_commit::BatchWrite;
use super::sqlite_checkpointer::WRITER_CHECKPOINT_PAGES;
use super::write::{Write, Written};
use super::write_batch::apply;

/// Statements kept prepared on the writer connection: every statement the
/// writer runs, with room to spare (each is prepared once, then reused).
const CACHED_STATEMENTS: usize = 64;

/// How much of the database file the writer maps into memory (SQLite's
/// `mmap_size`): file-backed pages, counted in the process's RSS once
/// touched, given back by the kernel under memory pressure.
const WRITER_MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// Opens the writer connection to `path` (a file path, or a `file:` URI)
/// with the settings every connection of the database gets (see
/// `sqlite::connect_options`), and the writer's own checkpoint backstop.
/// Blocking: call it off the async runtime.
pub(crate) fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(path, OpenFlags::default())?;
    connection.busy_timeout(busy_timeout)?;
    // Answers the mode it is in: "wal" on a file, "memory" on an in-memory
    // database (which has no write-ahead log).
    connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    // The writer reads the index and counter pages it inserts into; with
    // SQLite's 2 MiB cache most come back by `pread` (4.7 % of a create's
    // CPU). Mapped, they are read in place: −5 and −7 % CPU per create on
    // S1 in two series (docs/benchmarks/allocator.md). Writes still go
    // through the write-ahead log.
    connection.pragma_update(None, "mmap_size", WRITER_MMAP_BYTES)?;
    connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(connection)
}

/// Writes batches on the writer connection.
pub(crate) struct SqliteBatchWriter {
    /// Only the writer thread uses it: the lock is never contended, it only
    /// lends `&mut` through `BatchWrite`'s shared `&self` (shared because
    /// PostgreSQL's writer tasks share their writer). An async lock because
    /// the batch's statements are async functions holding it.
    connection: tokio::sync::Mutex<Connection>,
}

impl SqliteBatchWriter {
    pub(crate) fn new(connection: Connection) -> Self {
        Self {
            connection: tokio::sync::Mutex::new(connection),
        }
    }
}

#[async_trait]
impl BatchWrite for SqliteBatchWriter {
    async fn write_batch(&self, batch: &[Write]) -> Result<Vec<Written>, RepositoryError> {
        let mut connection = self.connection.lock().await;
        let mut tx = SqliteTransaction::begin(&mut connection).map_err(sqlite_error)?;
        // Dropping `tx` on an error rolls everything back: the batch is all
        // or nothing, and the commit is its last step.
        let written = apply(&mut tx, batch).await?;
        tx.commit().map_err(sqlite_error)?;
        Ok(written)
    }
}

/// A transaction on the writer connection, rolled back if dropped before
/// [`Self::commit`].
pub(crate) struct SqliteTransaction<'c> {
    connection: &'c mut Connection,
    committed: bool,
}

impl<'c> SqliteTransaction<'c> {
    /// IMMEDIATE: the write lock from the start. A deferred transaction that
    /// reads first would fail at once (not wait) on its first write if
    /// another process wrote in between.
    fn begin(connection: &'c mut Connection) -> rusqlite::Result<Self> {
        connection.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Self {
            connection,
            committed: false,
        })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.connection.prepare_cached("COMMIT")?.execute([])?;
        self.committed = true;
        Ok(())
    }

    /// Runs `sql` with `values` as its `$1`, `$2`, …; returns how many rows
    /// it changed.
    pub(crate) fn execute(
        &mut self,
        sql: &str,
        values: &[&dyn ToSql],
    ) -> Result<usize, RepositoryError> {
        self.bound(sql, values)
            .and_then(|mut statement| statement.raw_execute())
            .map_err(sqlite_error)
    }

    /// Runs `sql` with `values` as its `$1`, `$2`, …; returns every row it
    /// yields, each mapped by `map`.
    pub(crate) fn query<T>(
        &mut self,
        sql: &str,
        values: &[&dyn ToSql],
        mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, RepositoryError> {
        let mut statement = self.bound(sql, values).map_err(sqlite_error)?;
        let mut rows = statement.raw_query();
        let mut mapped = Vec::new();
        // Stepped to the end: a `RETURNING` statement finishes its changes.
        while let Some(row) = rows.next().map_err(sqlite_error)? {
            mapped.push(map(row).map_err(sqlite_error)?);
        }
        Ok(mapped)
    }

    /// The prepared `sql` (cached) with `values` bound by their `$n` names,
    /// whatever order the text names them in.
    fn bound(&mut self, sql: &str, values: &[&dyn ToSql]) -> rusqlite::Result<CachedStatement<'_>> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let expected = statement.parameter_count();
        if expected != values.len() {
            return Err(rusqlite::Error::InvalidParameterCount(
                values.len(),
                expected,
            ));
        }
        for (number, value) in (1..).zip(values) {
            let name = format!("${number}");
            let index = statement
                .parameter_index(&name)?
                .ok_or(rusqlite::Error::InvalidParameterName(name))?;
            statement.raw_bind_parameter(index, value)?;
        }
        Ok(statement)
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        // Some errors (a full disk, an I/O error) end the transaction
        // themselves; then there is nothing to roll back.
        if !self.committed && !self.connection.is_autocommit() {
            // A failed ROLLBACK leaves nothing to do: SQLite rolls back
            // whatever stays uncommitted when the connection closes.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let connection = open(Path::new(":memory:"), Duration::from_secs(1)).unwrap();
        connection
            .execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap();
        connection
    }

    fn count(connection: &Connection) -> i64 {
        connection
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn parameters_are_bound_by_their_number_whatever_their_order_in_the_text() {
        let mut connection = connection();
        let mut tx = SqliteTransaction::begin(&mut connection).unwrap();
        tx.execute("INSERT INTO t (b, a) VALUES ($2, $1)", &[&7, &"seven"])
            .unwrap();
        let rows = tx
            .query("SELECT a, b FROM t WHERE b = $1", &[&"seven"], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .unwrap();
        assert_eq!(rows, [(7, "seven".to_owned())]);
        assert!(matches!(
            tx.execute("INSERT INTO t (a) VALUES ($1)", &[&1, &2]),
            Err(RepositoryError::Other(_))
        ));
    }

    #[test]
    fn a_transaction_dropped_before_its_commit_stores_nothing() {
        let mut connection = connection();
        {
            let mut tx = SqliteTransaction::begin(&mut connection).unwrap();
            tx.execute("INSERT INTO t (a) VALUES ($1)", &[&1]).unwrap();
        }
        assert_eq!(count(&connection), 0);
        assert!(connection.is_autocommit());

        let mut tx = SqliteTransaction::begin(&mut connection).unwrap();
        tx.execute("INSERT INTO t (a) VALUES ($1)", &[&1]).unwrap();
        tx.commit().unwrap();
        assert_eq!(count(&connection), 1);
    }
}
