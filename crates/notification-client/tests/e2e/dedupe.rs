//! Whatever the wire carries twice, the client yields once: a change at or
//! below the last `seq` yielded is dropped.

use std::collections::HashSet;

use notification_e2e::{on_both_backends, spawn_app, spawn_app_with, Backend};
use uuid::Uuid;

use crate::support::relay::Relay;
use crate::support::{addr, client, connected, create, notifications_until};

async fn every_notification_delivered_twice_is_yielded_once(backend: Backend) {
    let database_url = backend.database_url().await;
    let first = spawn_app_with(&database_url, &[]).await;
    let relay = Relay::start(addr(&first)).await;
    relay.duplicate_notifications();
    let (user, token) = first.new_user();
    let mut subscription = client(&relay.base_url(), &token).subscribe();
    connected(&mut subscription).await;
    let live = create(&first, user, &["one", "two", "three"]).await;
    assert_eq!(notifications_until(&mut subscription, live[2]).await, live);

    // Replayed ones too, after a restart.
    first.stop().await;
    let restarted = spawn_app_with(&database_url, &[]).await;
    let missed = create(&restarted, user, &["missed 1", "missed 2"]).await;
    relay.point_to(addr(&restarted));
    let after = create(&restarted, user, &["after"]).await;
    let expected: Vec<Uuid> = missed.iter().chain(&after).copied().collect();
    assert_eq!(
        notifications_until(&mut subscription, after[0]).await,
        expected
    );
    assert!(
        relay.duplicated() >= 5,
        "the wire really carried duplicates ({})",
        relay.duplicated()
    );
    restarted.stop().await;
}

async fn a_replay_racing_live_creations_yields_each_once_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let titles: Vec<String> = (0..40).map(|i| format!("backlog {i}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let backlog = create(&app, user, &titles).await;
    // Resume far back while new notifications keep coming: some arrive both
    // replayed and live.
    let mut subscription = client(&app.base_url, &token).subscribe_after(backlog[0]);
    let live_titles: Vec<String> = (0..20).map(|i| format!("live {i}")).collect();
    let live_titles: Vec<&str> = live_titles.iter().map(String::as_str).collect();
    let live = create(&app, user, &live_titles).await;

    let yielded = notifications_until(&mut subscription, live[live.len() - 1]).await;
    let expected: Vec<Uuid> = backlog[1..].iter().chain(&live).copied().collect();
    assert_eq!(
        yielded.len(),
        yielded.iter().collect::<HashSet<_>>().len(),
        "no id twice"
    );
    assert_eq!(yielded, expected, "each once, oldest first");
    app.stop().await;
}

on_both_backends!(
    every_notification_delivered_twice_is_yielded_once,
    a_replay_racing_live_creations_yields_each_once_in_order,
);
