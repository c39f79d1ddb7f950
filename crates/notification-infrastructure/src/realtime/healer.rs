//! [`Healer`]: reads from the change log what this node's connections did not
//! receive live, once per user (not once per connection), and hands it to the
//! hub, which queues it in `seq` order before what waited behind it.
//!
//! Three things start a read:
//! - a change that skips ahead of the user's stream ([`Healer::heal`]): after
//!   [`GAP_GRACE`], because the change before it is usually a few
//!   microseconds behind (two request tasks publishing in the other order);
//! - the periodic check ([`Healer::spawn_checks`], every `WS_PING_INTERVAL`):
//!   one batched read of the latest `seq` of every user connected here; a
//!   user whose latest is ahead of what was handed on lost a publish;
//! - the event bus losing events (its Redis subscription dropped): the same
//!   check at once ([`Healer::check_all`]); only when that fails are the
//!   sockets closed with 1012.

use std::time::Duration;

use notification_application::NotificationService;
use notification_domain::{ChangesAfter, UserId};
use notification_protocol::ServerMessage;
use tokio::runtime::Handle;

use crate::background::BackgroundTasks;
use crate::realtime::hub::{Handed, Hub};
use crate::realtime::outbound::encode;

/// How long a gap may stay open before the log is read: the change before a
/// change that skipped ahead is usually just behind it.
pub const GAP_GRACE: Duration = Duration::from_millis(20);

/// Changes read per page of a heal.
const HEAL_PAGE: u32 = 500;

/// Users per read of the latest positions.
const CHECK_BATCH: usize = 1000;

/// Fills the gaps of this node's user streams from the change log.
#[derive(Clone)]
pub struct Healer {
    hub: Hub,
    service: NotificationService,
    tasks: BackgroundTasks,
    /// The runtime reads run on (not an HTTP worker's: those stop first at
    /// shutdown, and a task left on one would never end).
    runtime: Handle,
}

impl Healer {
    /// Must be called within the Tokio runtime reads should run on.
    pub fn new(hub: Hub, service: NotificationService, tasks: BackgroundTasks) -> Self {
        Self {
            hub,
            service,
            tasks,
            runtime: Handle::current(),
        }
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Where reads go.
    pub fn service(&self) -> &NotificationService {
        &self.service
    }

    /// Starts the read `handed` asks for, if any, after [`GAP_GRACE`].
    pub fn heal(&self, user_id: UserId, handed: Handed) {
        self.start_read(user_id, handed, GAP_GRACE);
    }

    /// Reads the latest `seq` of every user whose stream is anchored here, in
    /// batches, and starts a read for each one that is behind. `Err` when a
    /// batch could not be read.
    pub async fn check_all(&self) -> Result<usize, notification_application::ServiceError> {
        let users = self.hub.anchored_users();
        let mut behind = 0;
        for batch in users.chunks(CHECK_BATCH) {
            let ids: Vec<UserId> = batch.iter().map(|(user, _)| *user).collect();
            for (user, position) in self.service.latest_seqs(&ids).await? {
                let handed = self.hub.learned_latest(user, position.seq);
                if handed.read_after.is_some() {
                    behind += 1;
                    metrics::counter!("ws_lost_publishes_healed_total").increment(1);
                }
                self.start_read(user, handed, Duration::ZERO);
            }
        }
        Ok(behind)
    }

    /// Runs [`check_all`](Self::check_all) every `every` until the tasks are
    /// cancelled.
    pub fn spawn_checks(&self, every: Duration) {
        let healer = self.clone();
        self.tasks.spawn_on(
            async move {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks.tick().await;
                loop {
                    tokio::select! {
                        () = healer.tasks.cancelled() => break,
                        _ = ticks.tick() => {}
                    }
                    if let Err(error) = healer.check_all().await {
                        tracing::warn!(%error, "could not check for lost publishes; trying again next time");
                    }
                }
            },
            &self.runtime,
        );
    }

    fn start_read(&self, user_id: UserId, handed: Handed, grace: Duration) {
        if handed.read_after.is_none() {
            return;
        }
        let healer = self.clone();
        self.tasks.spawn_on(
            async move {
                tokio::select! {
                    () = healer.tasks.cancelled() => {}
                    () = healer.read(user_id, grace) => {}
                }
            },
            &self.runtime,
        );
    }

    /// Reads page after page until the user's stream has no gap left.
    async fn read(&self, user_id: UserId, grace: Duration) {
        if !grace.is_zero() {
            tokio::time::sleep(grace).await;
        }
        while let Some(after) = self.hub.confirm_read(user_id) {
            metrics::counter!("ws_gap_reads_total").increment(1);
            match self.service.changes(user_id, after, HEAL_PAGE).await {
                Ok(ChangesAfter::Kept { changes, latest }) => {
                    let messages = changes
                        .iter()
                        .filter_map(|change| {
                            encode(&ServerMessage::from(change)).map(|text| (change.seq(), text))
                        })
                        .collect();
                    let handed = self.hub.read_done(user_id, messages, latest.seq);
                    if handed.read_after.is_none() {
                        return;
                    }
                }
                Ok(ChangesAfter::Gone { latest }) => {
                    let told = self.hub.skip_to(user_id, latest.seq);
                    tracing::warn!(%user_id, after, told, "the changes a connection missed are no longer kept; its connections resync");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%user_id, after, %error, "could not read missed changes; trying again at the next change or check");
                    self.hub.read_failed(user_id);
                    return;
                }
            }
        }
    }
}

impl std::fmt::Debug for Healer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Healer")
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
impl Healer {
    /// A healer of `hub` reading from `repository` (a mock).
    pub(crate) fn reading(
        hub: Hub,
        repository: notification_domain::MockNotificationRepository,
    ) -> Self {
        let service = NotificationService::new(
            std::sync::Arc::new(repository),
            std::sync::Arc::new(notification_domain::MockEventPublisher::new()),
        );
        Self::new(hub, service, BackgroundTasks::new())
    }
}
