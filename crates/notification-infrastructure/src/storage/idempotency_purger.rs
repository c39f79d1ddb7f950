//! The background task that forgets expired idempotency keys.
//!
//! Expiry itself does not depend on it: a key older than
//! [`IDEMPOTENCY_KEY_TTL`] is treated as new by the very request that reuses
//! it. The purge only keeps the table from growing with keys nobody repeats.
//!
//! It deletes in chunks of [`PURGE_CHUNK`] keys, each its own short
//! transaction: one `DELETE` of every expired key would hold SQLite's only
//! writer for seconds when millions have piled up (after an outage of the
//! purge, or on a busy day), and every create would wait behind it.

use std::sync::Arc;
use std::time::Duration;

use notification_domain::{now, NotificationRepository, RepositoryError, IDEMPOTENCY_KEY_TTL};
use tokio::time::MissedTickBehavior;

use crate::background::BackgroundTasks;

/// The most keys one purge statement deletes.
pub const PURGE_CHUNK: u32 = 1_000;

/// Purges keys older than [`IDEMPOTENCY_KEY_TTL`] at once and then every
/// `every`, until `tasks` shut down. A failed purge is logged and tried again
/// at the next tick.
///
/// Every node may run one: each chunk is a plain bounded `DELETE`, harmless
/// when repeated or concurrent.
pub fn spawn_idempotency_purger(
    repository: Arc<dyn NotificationRepository>,
    every: Duration,
    tasks: &BackgroundTasks,
) {
    let token = tasks.token();
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        // After a long pause (a slow database), purge once, not once per missed tick.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = ticks.tick() => {}
            }
            // Cancellation between chunks loses nothing: the next start
            // purges what is left.
            tokio::select! {
                _ = token.cancelled() => return,
                purged = purge_expired(&*repository) => match purged {
                    Ok(purged) => tracing::debug!(purged, "expired idempotency keys purged"),
                    Err(error) => tracing::warn!(%error, "purging idempotency keys failed"),
                },
            }
        }
    });
}

/// Deletes expired keys chunk by chunk until a chunk comes back short;
/// returns how many went.
async fn purge_expired(repository: &dyn NotificationRepository) -> Result<u64, RepositoryError> {
    let older_than = now() - IDEMPOTENCY_KEY_TTL;
    let mut total = 0;
    loop {
        let purged = repository
            .purge_idempotency_keys(older_than, PURGE_CHUNK)
            .await?;
        metrics::counter!("idempotency_keys_purged_total").increment(purged);
        total += purged;
        if purged < u64::from(PURGE_CHUNK) {
            return Ok(total);
        }
        // Let the writes queued behind this chunk go first.
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::MockNotificationRepository;
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn it_purges_keys_older_than_the_ttl_at_once_and_again_after_a_failure() {
        let started = now();
        let (calls, mut called) = mpsc::unbounded_channel();
        let mut repository = MockNotificationRepository::new();
        let mut failed_once = false;
        repository
            .expect_purge_idempotency_keys()
            .returning(move |older_than, _| {
                let _ = calls.send(older_than);
                if failed_once {
                    Ok(2)
                } else {
                    failed_once = true;
                    Err(RepositoryError::Unavailable("connection refused".into()))
                }
            });

        let tasks = BackgroundTasks::new();
        spawn_idempotency_purger(Arc::new(repository), Duration::from_millis(5), &tasks);
        let first = called.recv().await.unwrap();
        let second = called.recv().await.unwrap();
        tasks.shutdown().await;

        assert!(first >= started - IDEMPOTENCY_KEY_TTL, "{first}");
        assert!(first <= now() - IDEMPOTENCY_KEY_TTL, "{first}");
        assert!(second >= first, "the purge runs on after a failure");
    }

    #[tokio::test]
    async fn it_deletes_in_bounded_chunks_until_one_comes_back_short() {
        let (chunks, mut asked) = mpsc::unbounded_channel();
        let mut left: u64 = 2 * u64::from(PURGE_CHUNK) + 7;
        let mut repository = MockNotificationRepository::new();
        repository
            .expect_purge_idempotency_keys()
            .returning(move |_, limit| {
                let _ = chunks.send(limit);
                let purged = left.min(u64::from(limit));
                left -= purged;
                Ok(purged)
            });

        let purged = purge_expired(&repository).await.unwrap();

        assert_eq!(purged, 2 * u64::from(PURGE_CHUNK) + 7);
        let mut limits = Vec::new();
        while let Ok(limit) = asked.try_recv() {
            limits.push(limit);
        }
        assert_eq!(limits, vec![PURGE_CHUNK; 3], "three bounded statements");
    }
}
