//! A change whose publish was lost (the node's publisher drops it, wrapping
//! the real Redis bus) still reaches every open socket of the user, on every
//! node: at the user's next change, or within `WS_PING_INTERVAL`.

use std::sync::Arc;

use async_trait::async_trait;
use notification_api::startup::Interceptors;
use notification_domain::{DomainEvent, EventPublisher, PublishError};
use notification_e2e::{spawn_app_intercepted, spawn_app_with, Backend, TestApp, TEST_SECRET};

use crate::support::{changes_until, connect, shared_redis};

/// Publishes through `inner`, except creates titled "lost…": those are
/// dropped as a stalled Redis would, and the request still succeeds.
struct LosingPublisher {
    inner: Arc<dyn EventPublisher>,
}

#[async_trait]
impl EventPublisher for LosingPublisher {
    async fn publish(&self, event: DomainEvent) -> Result<(), PublishError> {
        if let DomainEvent::NotificationCreated(created) = &event {
            if created.notification.title().starts_with("lost") {
                return Ok(());
            }
        }
        self.inner.publish(event).await
    }

    async fn ping(&self) -> Result<(), PublishError> {
        self.inner.ping().await
    }
}

/// Node A loses publishes, node B does not; both check for lost ones every
/// `ping_interval` seconds.
async fn nodes(ping_interval: &str) -> (TestApp, TestApp) {
    let database = Backend::Postgres.database_url().await;
    let redis = shared_redis();
    let flags = [
        "--jwt-secret",
        TEST_SECRET,
        "--event-bus-url",
        &redis,
        "--ws-ping-interval",
        ping_interval,
        "--ws-pong-timeout",
        "100000",
    ];
    let losing = Interceptors {
        publisher: Some(Box::new(|inner| Arc::new(LosingPublisher { inner }))),
        ..Interceptors::default()
    };
    let a = spawn_app_intercepted(&database, &flags, losing).await;
    let b = spawn_app_with(&database, &flags[2..]).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_publish_reaches_every_socket_within_the_ping_interval() {
    let (a, b) = nodes("0.5").await;
    let (user, token) = a.new_user();
    let mut sockets = vec![
        connect(&a, &token, Some("since_seq=0")).await,
        connect(&b, &token, Some("since_seq=0")).await,
    ];

    let lost = a.create_for(user, "lost, and nothing after it").await;

    for socket in &mut sockets {
        let changes = changes_until(socket, 0, 1).await;
        assert_eq!(changes[0]["data"], lost);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_publish_reaches_every_socket_before_the_users_next_change() {
    // The periodic check is far away: only the next change can reveal it.
    let (a, b) = nodes("3600").await;
    let (user, token) = a.new_user();
    let mut sockets = vec![
        connect(&a, &token, Some("since_seq=0")).await,
        connect(&b, &token, Some("since_seq=0")).await,
        connect(&b, &token, Some("since_seq=0")).await,
    ];

    let lost = a.create_for(user, "lost").await;
    let next = b.create_for(user, "the next change").await;

    for socket in &mut sockets {
        let changes = changes_until(socket, 0, 2).await;
        assert_eq!(changes[0]["data"], lost);
        assert_eq!(changes[1]["data"], next);
    }
}
