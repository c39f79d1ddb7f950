//! The background task that forgets expired idempotency keys.
//!
//! Expiry itself does not depend on it: a key older than
//! [`IDEMPOTENCY_KEY_TTL`] is treated as new by the very request that reuses
//! it. The purge only keeps the table from growing with keys nobody repeats.

use std::sync::Arc;
use std::time::Duration;

use notification_domain::{now, NotificationRepository, IDEMPOTENCY_KEY_TTL};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Purges keys older than [`IDEMPOTENCY_KEY_TTL`] at once and then every
/// `every`, until the returned task is aborted (or the runtime stops). A
/// failed purge is logged and tried again at the next tick.
///
/// Every node may run one: the purge is a plain `DELETE … WHERE created < $1`,
/// harmless when repeated or concurrent.
pub fn spawn_idempotency_purger(
    repository: Arc<dyn NotificationRepository>,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        // After a long pause (a slow database), purge once, not once per missed tick.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match repository
                .purge_idempotency_keys(now() - IDEMPOTENCY_KEY_TTL)
                .await
            {
                Ok(purged) => {
                    metrics::counter!("idempotency_keys_purged_total").increment(purged);
                    tracing::debug!(purged, "expired idempotency keys purged");
                }
                Err(error) => tracing::warn!(%error, "purging idempotency keys failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{MockNotificationRepository, RepositoryError};
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn it_purges_keys_older_than_the_ttl_at_once_and_again_after_a_failure() {
        let started = now();
        let (calls, mut called) = mpsc::unbounded_channel();
        let mut repository = MockNotificationRepository::new();
        let mut failed_once = false;
        repository
            .expect_purge_idempotency_keys()
            .returning(move |older_than| {
                let _ = calls.send(older_than);
                if failed_once {
                    Ok(2)
                } else {
                    failed_once = true;
                    Err(RepositoryError::Unavailable("connection refused".into()))
                }
            });

        let purger = spawn_idempotency_purger(Arc::new(repository), Duration::from_millis(5));
        let first = called.recv().await.unwrap();
        let second = called.recv().await.unwrap();
        purger.abort();

        assert!(first >= started - IDEMPOTENCY_KEY_TTL, "{first}");
        assert!(first <= now() - IDEMPOTENCY_KEY_TTL, "{first}");
        assert!(second >= first, "the purge runs on after a failure");
    }
}
