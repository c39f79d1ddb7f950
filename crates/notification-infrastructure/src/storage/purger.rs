//! The background task that forgets what is kept only for a while: expired
//! idempotency keys, and change log rows older than `SYNC_LOG_RETENTION`.
//!
//! Expiry itself does not depend on it: a key older than
//! [`IDEMPOTENCY_KEY_TTL`] is treated as new by the very request that reuses
//! it, and a resume from a position whose next change is gone gets `resync`
//! whether or not older rows are still there. The purge only keeps the tables
//! from growing.
//!
//! It deletes in chunks of [`PURGE_CHUNK`] rows, each its own short
//! transaction: one `DELETE` of every expired row would hold SQLite's only
//! writer for seconds when millions have piled up (after an outage of the
//! purge, or on a busy day), and every create would wait behind it.

use std::sync::Arc;
use std::time::Duration;

use notification_domain::{now, NotificationRepository, RepositoryError, IDEMPOTENCY_KEY_TTL};
use time::OffsetDateTime;
use tokio::time::MissedTickBehavior;

use crate::background::BackgroundTasks;

/// The most rows one purge statement deletes.
pub const PURGE_CHUNK: u32 = 1_000;

/// Purges keys older than [`IDEMPOTENCY_KEY_TTL`] and log rows older than
/// `change_log_retention` at once and then every `every`, until `tasks` shut
/// down. A failed purge is logged and tried again at the next tick.
///
/// Every node may run one: each chunk is a plain bounded `DELETE`, harmless
/// when repeated or concurrent.
pub fn spawn_purger(
    repository: Arc<dyn NotificationRepository>,
    every: Duration,
    change_log_retention: Duration,
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
                purged = purge_expired(&*repository, change_log_retention) => match purged {
                    Ok((keys, changes)) => {
                        tracing::debug!(keys, changes, "expired idempotency keys and changes purged");
                    }
                    Err(error) => tracing::warn!(%error, "purging expired rows failed"),
                },
            }
        }
    });
}

/// Deletes expired keys, then expired log rows, each chunk by chunk until a
/// chunk comes back short; returns how many of each went.
async fn purge_expired(
    repository: &dyn NotificationRepository,
    change_log_retention: Duration,
) -> Result<(u64, u64), RepositoryError> {
    let keys = purge_in_chunks(now() - IDEMPOTENCY_KEY_TTL, |older_than, limit| {
        repository.purge_idempotency_keys(older_than, limit)
    })
    .await?;
    metrics::counter!("idempotency_keys_purged_total").increment(keys);
    let changes = purge_in_chunks(now() - change_log_retention, |older_than, limit| {
        repository.purge_changes(older_than, limit)
    })
    .await?;
    metrics::counter!("change_log_rows_purged_total").increment(changes);
    Ok((keys, changes))
}

/// Calls `purge` with [`PURGE_CHUNK`] until a chunk comes back short.
async fn purge_in_chunks<F, Fut>(
    older_than: OffsetDateTime,
    purge: F,
) -> Result<u64, RepositoryError>
where
    F: Fn(OffsetDateTime, u32) -> Fut,
    Fut: std::future::Future<Output = Result<u64, RepositoryError>>,
{
    let mut total = 0;
    loop {
        let purged = purge(older_than, PURGE_CHUNK).await?;
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

    const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

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
        repository.expect_purge_changes().returning(|_, _| Ok(0));
        spawn_purger(
            Arc::new(repository),
            Duration::from_millis(5),
            RETENTION,
            &tasks,
        );
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

        repository.expect_purge_changes().returning(|_, _| Ok(3));
        let purged = purge_expired(&repository, RETENTION).await.unwrap();

        assert_eq!(purged, (2 * u64::from(PURGE_CHUNK) + 7, 3));
        let mut limits = Vec::new();
        while let Ok(limit) = asked.try_recv() {
            limits.push(limit);
        }
        assert_eq!(limits, vec![PURGE_CHUNK; 3], "three bounded statements");
    }

    #[tokio::test]
    async fn it_purges_changes_older_than_the_retention_in_bounded_chunks() {
        let started = now();
        let (chunks, mut asked) = mpsc::unbounded_channel();
        let mut left: u64 = u64::from(PURGE_CHUNK) + 1;
        let mut repository = MockNotificationRepository::new();
        repository
            .expect_purge_idempotency_keys()
            .returning(|_, _| Ok(0));
        repository
            .expect_purge_changes()
            .returning(move |older_than, limit| {
                let _ = chunks.send((older_than, limit));
                let purged = left.min(u64::from(limit));
                left -= purged;
                Ok(purged)
            });

        let purged = purge_expired(&repository, RETENTION).await.unwrap();

        assert_eq!(purged, (0, u64::from(PURGE_CHUNK) + 1));
        let (older_than, limit) = asked.try_recv().unwrap();
        assert_eq!(limit, PURGE_CHUNK);
        assert!(older_than >= started - RETENTION && older_than <= now() - RETENTION);
        assert!(
            asked.try_recv().is_ok() && asked.try_recv().is_err(),
            "two chunks"
        );
    }
}
