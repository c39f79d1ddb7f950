//! Checkpoints of SQLite's write-ahead log, off the writer's path.
//!
//! In WAL mode every commit appends the changed pages to the log, and a
//! checkpoint copies them back into the database file and syncs it. By
//! default the connection whose commit makes the log pass 1,000 pages runs the
//! checkpoint itself, inside that commit: with only one writer connection,
//! every create queued behind it waits (the figures are in
//! `docs/benchmarks/optimisations.md`). Here a background task runs a PASSIVE
//! checkpoint (it never blocks the writer nor readers) on a reader connection
//! every [`INTERVAL`], and the writer's own automatic checkpoint only starts at
//! [`WRITER_CHECKPOINT_PAGES`], as a backstop: it finds most pages already
//! copied, and it is what lets the log restart from its beginning under
//! sustained writes (a PASSIVE checkpoint racing new commits rarely catches up
//! completely), so the file stays bounded.
//!
//! The task is one of the service's [`BackgroundTasks`]: it stops when
//! shutdown begins, before the pools are closed.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::task::JoinHandle;

use crate::background::BackgroundTasks;

/// How often the background checkpoint runs. Often, so that little is left
/// for the writer's backstop (measured against longer intervals and a smaller
/// backstop in `docs/benchmarks/optimisations.md`).
pub(crate) const INTERVAL: Duration = Duration::from_millis(50);

/// Log size (pages of 4 KiB) at which the writer checkpoints by itself.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 16_384;

/// Runs checkpoints on `readers` until shutdown begins or the pool is closed.
pub(crate) fn spawn(readers: SqlitePool, tasks: &BackgroundTasks) -> JoinHandle<()> {
    let stop = tasks.token();
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if readers.is_closed() {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_checkpointer_has_ended_when_shutdown_returns() {
        let readers = SqlitePool::connect("sqlite::memory:").await.unwrap();
        let tasks = BackgroundTasks::new();
        let checkpointer = spawn(readers.clone(), &tasks);

        tasks.shutdown().await;

        assert!(checkpointer.is_finished());
        // It stopped because shutdown began, not because its pool went away.
        assert!(!readers.is_closed());
    }
}
