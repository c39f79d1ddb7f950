//! Retention (`NOTIFICATION_RETENTION`, contract §9): notifications older
//! than the retention are deleted, each as an ordinary delete of its user
//! (see [`NotificationService::delete_expired`]), by a background task on
//! every server and by `notification-api prune`.
//!
//! Paced so that turning retention on over years of data floods neither the
//! database nor the sockets: at most [`RETENTION_CHUNK`] deletes go to the
//! writer at once (committed together, a short transaction), then the pass
//! waits [`RETENTION_PAUSE`] so that other writes go first. That caps the
//! rate at about 2,000 deletes a second (`docs/deployment.md`).

use std::time::Duration;

use notification_application::{NotificationService, ServiceError};
use notification_domain::now;
use notification_infrastructure::background::BackgroundTasks;
use tokio::time::MissedTickBehavior;

/// The most notifications one step deletes. Below the default
/// `WS_SEND_BUFFER` (256): a chunk that is all one user's pushes fewer
/// `delete` updates at once than that user's socket can queue.
pub const RETENTION_CHUNK: u32 = 100;

/// The pause between two steps of a pass: with [`RETENTION_CHUNK`], at most
/// about 2,000 deletes a second.
pub const RETENTION_PAUSE: Duration = Duration::from_millis(50);

/// How often the background task starts a pass.
pub const RETENTION_EVERY: Duration = Duration::from_secs(600);

/// One pass: deletes what is older than `retention` now, chunk by chunk with
/// a pause between, until a chunk comes back short or `stopped()` says so
/// between chunks; returns how many went.
///
/// A chunk is never cut short: its deletes may already be committed, and
/// each must be published.
pub async fn prune_once(
    service: &NotificationService,
    retention: Duration,
    pause: Duration,
    stopped: impl Fn() -> bool,
) -> Result<u64, ServiceError> {
    let created_before = now() - retention;
    let mut total = 0;
    loop {
        let deleted = service
            .delete_expired(created_before, RETENTION_CHUNK)
            .await?;
        total += deleted;
        metrics::counter!("notifications_expired_total").increment(deleted);
        if deleted < u64::from(RETENTION_CHUNK) || stopped() {
            return Ok(total);
        }
        tokio::time::sleep(pause).await;
    }
}

/// Runs [`prune_once`] at once and then every [`RETENTION_EVERY`], until
/// `tasks` shut down. A failed pass is logged and tried again at the next tick.
///
/// Every node may run one: a notification two nodes both try to delete is
/// deleted once (the other delete finds nothing and publishes nothing).
pub fn spawn_retention(service: NotificationService, retention: Duration, tasks: &BackgroundTasks) {
    let token = tasks.token();
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(RETENTION_EVERY);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = ticks.tick() => {}
            }
            // Shutdown waits for the chunk under way (at most one pause
            // more); the next start deletes what is left.
            match prune_once(&service, retention, RETENTION_PAUSE, || {
                token.is_cancelled()
            })
            .await
            {
                Ok(deleted) => tracing::info!(deleted, "expired notifications deleted"),
                Err(error) => tracing::warn!(%error, "deleting expired notifications failed"),
            }
        }
    });
}
