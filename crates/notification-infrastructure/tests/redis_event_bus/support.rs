//! Helpers: buses on a unique channel, a recording subscriber (events and
//! gaps), sample events, polling with a deadline, and a private
//! `redis-server` child process.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notification_domain::{
    now, DomainEvent, EventSubscriber, NotificationChange, NotificationUpdated, UserId,
};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::events::{RedisBusConfig, RedisEventBus};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Instant};
use uuid::Uuid;

pub const TEST_REDIS_URL_VAR: &str = "TEST_REDIS_URL";
pub const DEFAULT_TEST_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// Generous: only reached when something is broken.
pub const ARRIVAL_DEADLINE: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(20);

pub fn shared_redis_url() -> String {
    std::env::var(TEST_REDIS_URL_VAR).unwrap_or_else(|_| DEFAULT_TEST_REDIS_URL.to_owned())
}

/// A channel no other test uses, so parallel tests never hear each other.
pub fn unique_config() -> RedisBusConfig {
    RedisBusConfig::default().with_channel(format!("test:notifications:{}", Uuid::new_v4()))
}

/// Sends the bus's logs to the test's output (`RUST_LOG`, by default `debug`
/// for this crate), which the harness shows when a test fails.
pub fn show_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "notification_infrastructure=debug".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Connects a bus ("a node") to the shared test Redis.
///
/// # Panics
/// When Redis cannot be reached, with a message naming the URL and the fix.
pub async fn node(config: &RedisBusConfig) -> RedisEventBus {
    show_logs();
    let url = shared_redis_url();
    RedisEventBus::connect_with(&url, config.clone(), &BackgroundTasks::new())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis is required by these tests and cannot be used at {url}: {e}. \
                 Start it, or set {TEST_REDIS_URL_VAR} to a server that accepts connections."
            )
        })
}

/// A plain connection to the shared test Redis, to act behind the buses' backs.
pub async fn raw_connection() -> redis::aio::MultiplexedConnection {
    let url = shared_redis_url();
    let client = redis::Client::open(url.as_str()).unwrap();
    client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis is required by these tests, at {url}: {e}"))
}

/// How many connections are subscribed to `channel` right now.
pub async fn subscriber_count(channel: &str) -> u64 {
    let (_, count): (String, u64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut raw_connection().await)
        .await
        .unwrap();
    count
}

/// A subscriber that records every event it handles and every gap it is
/// told of, in order.
pub struct Recorder(mpsc::UnboundedSender<Heard>);

pub struct Recorded(mpsc::UnboundedReceiver<Heard>);

/// One thing a [`Recorder`] was told.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    Event(DomainEvent),
    /// `on_gap`: events may have been lost.
    Gap,
}

pub fn recorder() -> (Arc<Recorder>, Recorded) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (Arc::new(Recorder(sender)), Recorded(receiver))
}

#[async_trait]
impl EventSubscriber for Recorder {
    async fn handle(&self, event: &DomainEvent) {
        let _ = self.0.send(Heard::Event(event.clone()));
    }

    async fn on_gap(&self) {
        let _ = self.0.send(Heard::Gap);
    }
}

impl Recorded {
    /// The next event or gap, waiting for it up to [`ARRIVAL_DEADLINE`].
    pub async fn next_heard(&mut self, who: &str) -> Heard {
        match timeout(ARRIVAL_DEADLINE, self.0.recv()).await {
            Ok(Some(heard)) => heard,
            Ok(None) => panic!("{who}: the subscriber was dropped"),
            Err(_) => panic!("{who}: nothing arrived within {ARRIVAL_DEADLINE:?}"),
        }
    }

    /// The next event handled; a gap instead is a failure.
    pub async fn next(&mut self, who: &str) -> DomainEvent {
        match self.next_heard(who).await {
            Heard::Event(event) => event,
            Heard::Gap => panic!("{who}: told of a gap where an event was expected"),
        }
    }

    /// The next thing heard is a gap.
    pub async fn expect_gap(&mut self, who: &str) {
        match self.next_heard(who).await {
            Heard::Gap => {}
            Heard::Event(event) => panic!("{who}: expected a gap, heard {event:?}"),
        }
    }

    /// The next events are exactly `expected`, in order.
    pub async fn expect(&mut self, who: &str, expected: &[&DomainEvent]) {
        for (i, want) in expected.iter().enumerate() {
            let got = self.next(who).await;
            assert_eq!(&got, *want, "{who}: event #{i} is not the one expected");
        }
    }
}

/// A distinct event; `tag` shows up as its unread count.
pub fn event(tag: u64) -> DomainEvent {
    NotificationUpdated {
        user_id: UserId::from_uuid(Uuid::new_v4()),
        notification_id: None,
        change: NotificationChange::AllRead {
            read_at: now(),
            updated: tag,
        },
        unread_count: tag,
        seq: 0,
        occurred_at: now(),
    }
    .into()
}

/// Awaits `condition` by polling it every 20 ms.
///
/// # Panics
/// When it still does not hold after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if condition().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still not the case after {within:?}"
        );
        sleep(POLL_INTERVAL).await;
    }
}

pub use notification_infrastructure::testing::PrivateRedis;
