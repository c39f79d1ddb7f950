//! The subscriber side of the Redis bus: one task per node that listens on the
//! channel, hands each message on (through the bounded [`dispatch`](super::dispatch)
//! queue) to this node's subscribers and, because Redis pub/sub connections
//! do not come back by themselves, reconnects and resubscribes whenever its
//! connection is lost, then has the subscribers told that events may have
//! been missed meanwhile (`on_gap`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use notification_domain::{BoxError, EventSubscriber};
use redis::aio::{ConnectionManager, PubSubSink, PubSubStream};
use tokio::time::{sleep, timeout, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::dispatch::{Handover, Heard};
use super::RedisBusConfig;
use crate::events::subscribers::Subscribers;

/// What the bus and its subscription task share.
#[derive(Default)]
pub(super) struct Shared {
    subscribers: Subscribers,
    /// Whether the channel subscription is live right now (readiness).
    subscribed: AtomicBool,
}

impl Shared {
    pub(super) fn add_subscriber(&self, subscriber: Arc<dyn EventSubscriber>) {
        self.subscribers.add(subscriber);
    }

    pub(super) fn subscribers(&self) -> &Subscribers {
        &self.subscribers
    }

    pub(super) fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    pub(super) fn set_subscribed(&self, subscribed: bool) {
        self.subscribed.store(subscribed, Ordering::Release);
        metrics::gauge!("event_bus_connected").set(if subscribed { 1.0 } else { 0.0 });
    }
}

/// A live subscription: the sink sends PINGs, the stream yields messages.
pub(super) struct Connection {
    sink: PubSubSink,
    stream: PubSubStream,
}

/// Opens a pub/sub connection and subscribes to `channel`, within `within`.
/// When this returns, every message published to the channel from now on
/// reaches the connection.
pub(super) async fn open(
    client: &redis::Client,
    channel: &str,
    within: Duration,
) -> Result<Connection, BoxError> {
    let opening = async {
        let (mut sink, stream) = client.get_async_pubsub().await?.split();
        sink.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(Connection { sink, stream })
    };
    match timeout(within, opening).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(format!("no answer within {within:?}").into()),
    }
}

/// The subscription task's state.
pub(super) struct Subscription {
    pub(super) client: redis::Client,
    /// Nudged after each reconnection so the publishing side finds out too.
    pub(super) publisher: ConnectionManager,
    pub(super) config: RedisBusConfig,
    pub(super) shared: Arc<Shared>,
    /// Where each message goes, without waiting, to be dispatched.
    pub(super) handover: Handover,
}

/// How listening on one connection ended.
enum Ended {
    Stopped,
    Lost(String),
}

impl Subscription {
    /// Runs until `stop` is cancelled (the bus shut down or was dropped, or
    /// the service is stopping). The bus marks the subscription live before
    /// spawning this, so that a readiness check right after start-up already
    /// passes.
    pub(super) async fn run(self, mut connection: Connection, stop: CancellationToken) {
        loop {
            let reason = match self.listen(&mut connection, &stop).await {
                Ended::Stopped => break,
                Ended::Lost(reason) => reason,
            };
            self.shared.set_subscribed(false);
            tracing::warn!(
                channel = %self.config.channel,
                %reason,
                "event bus lost its Redis subscription; events from other nodes are not \
                 delivered here until it is back; reconnecting"
            );
            match self.reconnect(&stop).await {
                Some(restored) => connection = restored,
                None => break,
            }
            self.shared.set_subscribed(true);
            // Subscribed again, so nothing published from now on is missed;
            // what was published while down is gone for this node. Told
            // before the first message of the new connection is handed on.
            self.handover.offer(Heard::Resubscribed);
        }
        self.shared.set_subscribed(false);
        tracing::debug!(channel = %self.config.channel, "event bus subscription stopped");
    }

    async fn listen(&self, connection: &mut Connection, stop: &CancellationToken) -> Ended {
        let every = self.config.keepalive_interval;
        let mut keepalive = tokio::time::interval_at(Instant::now() + every, every);
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return Ended::Stopped,
                message = connection.stream.next() => match message {
                    Some(message) => self
                        .handover
                        .offer(Heard::Message(message.get_payload_bytes().to_vec())),
                    None => return Ended::Lost("the connection closed".to_owned()),
                },
                // A peer that vanished without closing the connection (a
                // network partition) sends nothing and closes nothing: only
                // an unanswered PING finds it.
                _ = keepalive.tick() => {
                    let within = self.config.command_timeout;
                    match timeout(within, connection.sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Ended::Lost(format!("PING failed: {e}")),
                        Err(_) => return Ended::Lost(format!("no answer to PING within {within:?}")),
                    }
                }
            }
        }
    }

    /// Tries again and again, with backoff, until subscribed (`Some`) or
    /// stopped (`None`).
    async fn reconnect(&self, stop: &CancellationToken) -> Option<Connection> {
        let lost_at = Instant::now();
        let config = &self.config;
        let mut backoff = Backoff::new(config.reconnect_delay_min, config.reconnect_delay_max);
        let mut attempt: u64 = 0;
        loop {
            attempt += 1;
            let attempting = async {
                sleep(backoff.next_delay()).await;
                open(&self.client, &config.channel, config.connect_timeout).await
            };
            let result = tokio::select! {
                biased;
                () = stop.cancelled() => return None,
                result = attempting => result,
            };
            match result {
                Ok(connection) => {
                    metrics::counter!("event_bus_reconnects_total").increment(1);
                    tracing::info!(
                        channel = %config.channel,
                        attempts = attempt,
                        down_ms = lost_at.elapsed().as_millis() as u64,
                        "event bus Redis subscription restored"
                    );
                    self.nudge_publisher().await;
                    return Some(connection);
                }
                // Each failure is expected while Redis is down: the loss and
                // the recovery are logged once, the attempts only at debug.
                Err(error) => tracing::debug!(
                    channel = %config.channel,
                    attempt,
                    %error,
                    "event bus reconnection attempt failed"
                ),
            }
        }
    }

    /// The publishing connection notices an outage only when a command fails
    /// on it, and may hold a failed connection attempt until the next one: a
    /// PING now makes it reconnect before a request needs it.
    async fn nudge_publisher(&self) {
        let mut publisher = self.publisher.clone();
        let ping = redis::cmd("PING");
        let _ = timeout(
            self.config.command_timeout,
            ping.query_async::<redis::Value>(&mut publisher),
        )
        .await;
    }
}
