//! Checkpoints of SQLite's write-ahead log, off the writer's path.
//!
//! In WAL mode every commit appends the changed pages to the log, and a
//! checkpoint copies them back into the database file and syncs it. By
//! default the connection whose commit makes the log pass 1,000 pages runs the
//! checkpoint itself, inside that commit: with only one writer connection,
//! every create waits behind it. Measured at 1,000 creates/s: p50 1.2 ms but
//! p90 33 ms, the creates queued behind a checkpoint every fraction of a
//! second (docs/benchmarks.md). Here a background task runs a PASSIVE
//! checkpoint (it never blocks the writer nor readers) on a reader connection
//! every [`INTERVAL`], and the writer's own automatic checkpoint only starts at
//! [`WRITER_CHECKPOINT_PAGES`], as a backstop: it finds most pages already
//! copied, and it is what lets the log restart from its beginning under
//! sustained writes (a PASSIVE checkpoint racing new commits rarely catches up
//! completely), so the file stays bounded.

use std::sync::Weak;
use std::time::Duration;

use sqlx::SqlitePool;

/// How often the background checkpoint runs. Often, so that little is left
/// for the writer's backstop: at 2,000 creates/s, p99 41–78 ms with 50 ms
/// against 56–109 ms with 200 ms; a backstop at SQLite's default 1,000 pages
/// instead of [`WRITER_CHECKPOINT_PAGES`] gave 168 ms (docs/benchmarks.md).
pub(crate) const INTERVAL: Duration = Duration::from_millis(50);

/// Log size (pages of 4 KiB) at which the writer checkpoints by itself.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 16_384;

/// Runs checkpoints on `readers` until `alive` can no longer be upgraded (the
/// repository is gone) or the pool is closed.
pub(crate) fn spawn(readers: SqlitePool, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if alive.upgrade().is_none() || readers.is_closed() {
                return;
            }
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&readers)
                .await
            {
                // The writer's backstop still bounds the log.
                tracing::warn!(%error, "background WAL checkpoint failed");
            }
        }
    });
}
