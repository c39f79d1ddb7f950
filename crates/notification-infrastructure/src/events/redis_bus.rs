//! The event bus of several nodes: every event goes through one Redis pub/sub
//! channel, and each node hands what it hears to its own subscribers.
//!
//! ```text
//!  node A: publish ──PUBLISH──▶ Redis channel ──▶ node A's subscription task ──▶ A's subscribers
//!                                             └─▶ node B's subscription task ──▶ B's subscribers
//! ```
//!
//! The behaviour is described on [`RedisEventBus`].

mod backoff;
mod dispatch;
mod subscription;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use notification_domain::{BoxError, DomainEvent, EventPublisher, EventSubscriber, PublishError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::io::tcp::TcpSettings;
use redis::IntoConnectionInfo;
use thiserror::Error;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use self::dispatch::Overflow;
use self::subscription::{Shared, Subscription};
use super::wire;
use crate::background::BackgroundTasks;
use crate::tls::{is_certificate_error, PrivateCa};

/// The channel every node of a deployment shares unless told otherwise.
pub const DEFAULT_CHANNEL: &str = "notifications:events";

/// How a [`RedisEventBus`] talks to Redis. [`Default`] suits production.
#[derive(Debug, Clone)]
pub struct RedisBusConfig {
    /// The pub/sub channel. Every node of one deployment must use the same one;
    /// distinct deployments (or parallel tests) sharing a Redis use distinct
    /// ones. Pub/sub ignores the database number of the URL.
    pub channel: String,
    /// Longest wait for one PUBLISH or PING, after which the bus answers
    /// [`PublishError::Unavailable`].
    pub command_timeout: Duration,
    /// Longest wait to connect and subscribe, at start-up and per reconnection
    /// attempt.
    pub connect_timeout: Duration,
    /// First delay between reconnection attempts of the subscription; it
    /// doubles after each failure up to `reconnect_delay_max`.
    pub reconnect_delay_min: Duration,
    pub reconnect_delay_max: Duration,
    /// How often the subscription connection is PINGed, to find a Redis that
    /// vanished without closing it.
    pub keepalive_interval: Duration,
    /// Linux: a connection whose sent data stays unacknowledged this long is
    /// closed by the kernel (TCP_USER_TIMEOUT) instead of after ~15 minutes.
    pub dead_peer_timeout: Duration,
    /// Most messages heard but not yet handed to this node's subscribers.
    /// Beyond it a message is dropped and the loss is a gap (`on_gap`), so a
    /// node that falls behind holds a bounded backlog.
    pub receive_buffer: usize,
    /// `rediss://` only: a private CA trusted beside the system's roots
    /// (`TLS_CA_FILE`). Without it only the system's roots are trusted.
    pub private_ca: Option<PrivateCa>,
}

impl Default for RedisBusConfig {
    fn default() -> Self {
        Self {
            channel: DEFAULT_CHANNEL.to_owned(),
            command_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
            reconnect_delay_min: Duration::from_millis(100),
            reconnect_delay_max: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(10),
            dead_peer_timeout: Duration::from_secs(10),
            receive_buffer: 4096,
            private_ca: None,
        }
    }
}

impl RedisBusConfig {
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Trusts `ca` beside the system's roots on a `rediss://` connection.
    pub fn with_private_ca(mut self, ca: Option<PrivateCa>) -> Self {
        self.private_ca = ca;
        self
    }

    fn validate(&self) -> Result<(), RedisBusError> {
        if self.channel.is_empty() {
            return Err(RedisBusError::InvalidConfig(
                "the channel is empty".to_owned(),
            ));
        }
        if self.receive_buffer == 0 {
            return Err(RedisBusError::InvalidConfig(
                "receive_buffer is zero".to_owned(),
            ));
        }
        let durations = [
            ("command_timeout", self.command_timeout),
            ("connect_timeout", self.connect_timeout),
            ("reconnect_delay_min", self.reconnect_delay_min),
            ("reconnect_delay_max", self.reconnect_delay_max),
            ("keepalive_interval", self.keepalive_interval),
            ("dead_peer_timeout", self.dead_peer_timeout),
        ];
        match durations.iter().find(|(_, duration)| duration.is_zero()) {
            Some((name, _)) => Err(RedisBusError::InvalidConfig(format!("{name} is zero"))),
            None => Ok(()),
        }
    }
}

/// Failures of the Redis bus. At start-up they come from [`RedisEventBus::connect`];
/// later they are the source of a [`PublishError::Unavailable`].
#[derive(Debug, Error)]
pub enum RedisBusError {
    #[error("not a usable Redis URL: {0}")]
    InvalidUrl(String),
    #[error("invalid event bus configuration: {0}")]
    InvalidConfig(String),
    /// TLS was refused because Redis's certificate does not verify: a
    /// deployment error (`TLS_CA_FILE`, the host name), not an outage.
    #[error("the certificate of Redis at {address} does not verify: {reason}")]
    Certificate { address: String, reason: String },
    #[error("Redis at {address} cannot be reached: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("Redis did not answer within {0:?}")]
    NoAnswer(Duration),
    #[error("the event bus is not subscribed to Redis (reconnecting or shut down)")]
    NotSubscribed,
}

/// Publishes every event to a Redis channel and hands every event heard on it
/// to this node's subscribers.
///
/// - **No local echo.** The publishing node hears its own event back from Redis
///   like every other node, so each socket gets each event exactly once.
/// - **Start-up fails fast, outages later are survived.** [`RedisEventBus::connect`]
///   returns an error when Redis cannot be reached at start (a misconfigured
///   `EVENT_BUS_URL` should stop a deploy, not produce a node that never
///   delivers). Afterwards a lost subscription is re-established by itself with
///   capped, jittered exponential backoff, and publishing reconnects on demand.
/// - **Never hangs a request.** `publish` and `ping` answer within
///   [`RedisBusConfig::command_timeout`]; while Redis is away they answer
///   [`PublishError::Unavailable`].
/// - **Readiness.** `ping` fails while this node's subscription is down or
///   Redis does not answer PING: a node that cannot hear events must not take
///   WebSocket traffic.
/// - **At most once.** Redis pub/sub keeps nothing: an event published while a
///   node's subscription is down never reaches that node's sockets. A publish
///   that timed out may still be delivered, if Redis read it before it stalled.
/// - **Gaps are announced.** Once a lost subscription is restored, every
///   subscriber's [`on_gap`](EventSubscriber::on_gap) is called, before any
///   event heard on the new subscription (the WebSocket side then tells its
///   sockets to resume with `since`). The first subscription, at start-up, is
///   not a gap.
/// - **Order.** Every node hears events in the order Redis accepted them: one
///   node's events in the order it published them, and a publish that returned
///   before another started (on any node) before that one.
/// - **Versioned messages.** Events are encoded by [`wire`](super::wire); a
///   message this node cannot decode is logged and skipped.
/// - **Bounded backlog.** At most [`RedisBusConfig::receive_buffer`] messages
///   wait for the subscribers; beyond that they are dropped
///   ([`events_dropped`](Self::events_dropped)) and the loss is a gap like an
///   outage: `on_gap` before the next event.
///
/// Metrics: `event_bus_messages_received_total`, `event_bus_decode_failures_total`,
/// `event_bus_reconnects_total`, `event_bus_events_dropped_total` (counters) and
/// `event_bus_connected` (gauge, 1 while subscribed).
///
/// Its tasks run on the service's [`BackgroundTasks`] and stop when those shut
/// down, on [`shutdown`](Self::shutdown), or when the bus is dropped.
pub struct RedisEventBus {
    publisher: ConnectionManager,
    channel: String,
    command_timeout: Duration,
    shared: Arc<Shared>,
    overflow: Arc<Overflow>,
    /// Stops the subscription and dispatch tasks (a child of the service's token).
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl RedisEventBus {
    /// Connects with the [default configuration](RedisBusConfig::default);
    /// the bus's tasks run on `tasks`. Must be called within a Tokio runtime.
    ///
    /// # Errors
    /// [`RedisBusError::InvalidUrl`] when `url` is not a `redis://` URL this
    /// build can use, [`RedisBusError::Unreachable`] when Redis does not accept
    /// a connection and a subscription within the connect timeout.
    pub async fn connect(url: &str, tasks: &BackgroundTasks) -> Result<Self, RedisBusError> {
        Self::connect_with(url, RedisBusConfig::default(), tasks).await
    }

    /// Connects with `config`; see [`connect`](Self::connect). A `config` with
    /// an empty channel, a zero duration or a zero buffer is
    /// [`RedisBusError::InvalidConfig`].
    pub async fn connect_with(
        url: &str,
        config: RedisBusConfig,
        tasks: &BackgroundTasks,
    ) -> Result<Self, RedisBusError> {
        config.validate()?;
        // Redis's URL errors never repeat the URL, so no password is printed.
        let info = url
            .into_connection_info()
            .map_err(|e| RedisBusError::InvalidUrl(e.to_string()))?;
        let address = info.addr().to_string();
        let client = client(info.set_tcp_settings(tcp_settings(&config)), &config)?;
        let unreachable = |error: Box<dyn std::error::Error + Send + Sync>| {
            let address = address.clone();
            let reason = error.to_string();
            if is_certificate_error(error.as_ref()) {
                RedisBusError::Certificate { address, reason }
            } else {
                RedisBusError::Unreachable { address, reason }
            }
        };

        let publisher = connect_publisher(&client, &config)
            .await
            .map_err(unreachable)?;
        let connection = subscription::open(&client, &config.channel, config.connect_timeout)
            .await
            .map_err(unreachable)?;

        let shared = Arc::new(Shared::default());
        shared.set_subscribed(true);
        let stop = tasks.token().child_token();
        let (handover, queue, overflow) = dispatch::handover(config.receive_buffer);
        let subscription = Subscription {
            client,
            publisher: publisher.clone(),
            config: config.clone(),
            shared: shared.clone(),
            handover,
        };
        let running = vec![
            tasks.spawn(subscription.run(connection, stop.clone())),
            tasks.spawn(dispatch::run(
                shared.clone(),
                queue,
                overflow.clone(),
                stop.clone(),
            )),
        ];
        tracing::info!(%address, channel = %config.channel, "event bus connected to Redis");

        Ok(Self {
            publisher,
            channel: config.channel,
            command_timeout: config.command_timeout,
            shared,
            overflow,
            stop,
            tasks: Mutex::new(running),
        })
    }

    /// How many events heard were dropped because this node's subscribers
    /// fell more than [`RedisBusConfig::receive_buffer`] behind.
    pub fn events_dropped(&self) -> u64 {
        self.overflow.dropped()
    }

    /// Adds a subscriber; it hears every event this node receives from now on.
    /// Subscribers are called one after the other, in subscription order, by
    /// the subscription task: they must return quickly.
    pub fn subscribe(&self, subscriber: Arc<dyn EventSubscriber>) {
        self.shared.add_subscriber(subscriber);
    }

    /// Stops the subscription and dispatch tasks and waits for them to end.
    /// Local subscribers hear nothing more and [`ping`](EventPublisher::ping)
    /// fails from then on.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let running =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in running {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "event bus task failed");
            }
        }
    }
}

impl Drop for RedisEventBus {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[async_trait]
impl EventPublisher for RedisEventBus {
    /// Returns once Redis has accepted the event; this node's subscribers hear
    /// it later, through the subscription, like every other node's.
    async fn publish(&self, event: DomainEvent) -> Result<(), PublishError> {
        let payload = wire::encode(&event).map_err(|e| PublishError::Other(Box::new(e)))?;
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&self.channel).arg(payload);
        let mut connection = self.publisher.clone();
        self.answer_within(publish.query_async::<u64>(&mut connection))
            .await
            .map(|_receivers| ())
    }

    async fn ping(&self) -> Result<(), PublishError> {
        if !self.shared.is_subscribed() {
            return Err(PublishError::Unavailable(Box::new(
                RedisBusError::NotSubscribed,
            )));
        }
        let ping = redis::cmd("PING");
        let mut connection = self.publisher.clone();
        self.answer_within(ping.query_async::<redis::Value>(&mut connection))
            .await
            .map(|_pong| ())
    }
}

impl RedisEventBus {
    async fn answer_within<T>(
        &self,
        command: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, PublishError> {
        match timeout(self.command_timeout, command).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(PublishError::Unavailable(Box::new(e))),
            Err(_) => Err(PublishError::Unavailable(Box::new(
                RedisBusError::NoAnswer(self.command_timeout),
            ))),
        }
    }
}

/// The publishing connection: multiplexed, and reconnected on demand by the
/// connection manager after a failure. Few retries, short delays: a request
/// waits for at most `command_timeout` anyway, and a failed publish is better
/// reported fast.
async fn connect_publisher(
    client: &redis::Client,
    config: &RedisBusConfig,
) -> Result<ConnectionManager, BoxError> {
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.command_timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(200));
    let connecting = ConnectionManager::new_with_config(client.clone(), manager_config);
    match timeout(config.connect_timeout, connecting).await {
        Ok(Ok(manager)) => Ok(manager),
        Ok(Err(e)) => Err(Box::new(e)),
        Err(_) => Err(format!("no answer within {:?}", config.connect_timeout).into()),
    }
}

/// The client for `info`: a `rediss://` one trusts the private CA beside the
/// system's roots when one is configured (redis takes a single root list).
fn client(
    info: redis::ConnectionInfo,
    config: &RedisBusConfig,
) -> Result<redis::Client, RedisBusError> {
    let is_tls = matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. });
    let built = match &config.private_ca {
        Some(ca) if is_tls => redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.with_system_roots()),
            },
        ),
        _ => redis::Client::open(info),
    };
    built.map_err(|e| RedisBusError::InvalidUrl(e.to_string()))
}

#[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
fn tcp_settings(config: &RedisBusConfig) -> TcpSettings {
    // Events are small and each one waits for its answer: no Nagle delay.
    let settings = TcpSettings::default().set_nodelay(true);
    #[cfg(target_os = "linux")]
    let settings = settings.set_user_timeout(config.dead_peer_timeout);
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn connect(url: &str) -> Result<RedisEventBus, RedisBusError> {
        RedisEventBus::connect(url, &BackgroundTasks::new()).await
    }

    #[tokio::test]
    async fn a_url_that_is_not_redis_is_rejected_before_any_connection() {
        for url in [
            "",
            "not a url",
            "http://127.0.0.1:6379",
            "redis://0.0.0.0:6379",
        ] {
            let err = connect(url).await.err();
            assert!(
                matches!(err, Some(RedisBusError::InvalidUrl(_))),
                "{url:?} gave {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_configuration_with_an_empty_channel_or_a_zero_duration_is_rejected() {
        let url = "redis://127.0.0.1:6379";
        let configs = [
            RedisBusConfig::default().with_channel(""),
            RedisBusConfig {
                keepalive_interval: Duration::ZERO,
                ..RedisBusConfig::default()
            },
            RedisBusConfig {
                command_timeout: Duration::ZERO,
                ..RedisBusConfig::default()
            },
            RedisBusConfig {
                receive_buffer: 0,
                ..RedisBusConfig::default()
            },
        ];
        for config in configs {
            let err = RedisEventBus::connect_with(url, config.clone(), &BackgroundTasks::new())
                .await
                .err();
            assert!(
                matches!(err, Some(RedisBusError::InvalidConfig(_))),
                "{config:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn url_errors_do_not_repeat_the_password() {
        let err = "redis://user:s3cret@127.0.0.1:6379/not-a-db"
            .into_connection_info()
            .err()
            .map(|e| RedisBusError::InvalidUrl(e.to_string()).to_string());
        assert!(
            err.as_deref().is_some_and(|m| !m.contains("s3cret")),
            "{err:?}"
        );
    }
}
