//! Helpers shared by the client's end-to-end tests.

pub mod relay;

use std::net::SocketAddr;
use std::time::Duration;

use notification_client::{Backoff, ClientConfig, Event, NotificationClient, Subscription};
use notification_e2e::TestApp;
use serde_json::Value;
use uuid::Uuid;

/// How long a test waits for something that should arrive within a blink.
/// A safety net against hanging, not a timing assertion.
pub const ARRIVAL: Duration = Duration::from_secs(15);

/// A client of `base_url` that reconnects quickly (tests should not wait out
/// production back-off).
pub fn client(base_url: &str, token: &str) -> NotificationClient {
    NotificationClient::new(config(base_url, token)).expect("a valid base URL")
}

pub fn config(base_url: &str, token: &str) -> ClientConfig {
    ClientConfig::new(base_url, token).with_reconnect(
        Backoff::new(Duration::from_millis(20), Duration::from_millis(250)).with_jitter(0.2),
    )
}

/// The address a test server listens on.
pub fn addr(app: &TestApp) -> SocketAddr {
    app.base_url
        .trim_start_matches("http://")
        .parse()
        .expect("the test server's base URL is http://ip:port")
}

/// The `notification_id` of a resource returned by `TestApp::create_for`.
pub fn id(resource: &Value) -> Uuid {
    resource["notification_id"]
        .as_str()
        .and_then(|raw| raw.parse().ok())
        .expect("a notification id")
}

/// Creates one notification per title for `user`; returns their ids.
pub async fn create(app: &TestApp, user: Uuid, titles: &[&str]) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for title in titles {
        ids.push(id(&app.create_for(user, title).await));
    }
    ids
}

/// The next event (panics when none arrives in time or the stream ended).
pub async fn next_event(subscription: &mut Subscription) -> Event {
    tokio::time::timeout(ARRIVAL, subscription.next())
        .await
        .expect("an event arrives in time")
        .expect("the subscription is running")
}

/// Waits for `Connected`, skipping reconnect attempts.
pub async fn connected(subscription: &mut Subscription) {
    loop {
        match next_event(subscription).await {
            Event::Connected => return,
            Event::Disconnected { .. } => continue,
            other => panic!("expected Connected, got {other:?}"),
        }
    }
}

/// The ids of every `Notification` yielded until `last` is, in order
/// (connection events are skipped; a duplicate would show in the list).
pub async fn notifications_until(subscription: &mut Subscription, last: Uuid) -> Vec<Uuid> {
    let mut ids = Vec::new();
    while ids.last() != Some(&last) {
        match next_event(subscription).await {
            Event::Notification { notification, .. } => ids.push(notification.notification_id),
            Event::Connected | Event::Disconnected { .. } | Event::Update { .. } => {}
            other => panic!("unexpected {other:?} while waiting for notifications"),
        }
    }
    ids
}
