//! Nothing lost, nothing shown twice: across server restarts, with the last
//! notification seen deleted meanwhile, and from a given starting point.

use notification_client::{DisconnectReason, Event};
use notification_e2e::{on_both_backends, spawn_app, spawn_app_with, Backend};

use crate::support::relay::Relay;
use crate::support::{addr, client, connected, create, next_event, notifications_until};

/// Waits for the `Disconnected` that the server's graceful stop causes.
async fn expect_server_restart_close(subscription: &mut notification_client::Subscription) {
    match next_event(subscription).await {
        Event::Disconnected {
            reason: DisconnectReason::Closed { code, .. },
            ..
        } => assert_eq!(code, 1001, "a stopping server says 1001"),
        other => panic!("expected a 1001 close, got {other:?}"),
    }
}

async fn a_server_restart_mid_stream_loses_nothing_and_repeats_nothing(backend: Backend) {
    let database_url = backend.database_url().await;
    let first = spawn_app_with(&database_url, &[]).await;
    let relay = Relay::start(addr(&first)).await;
    let (user, token) = first.new_user();
    let [_older] = create(&first, user, &["before the subscription"]).await[..] else {
        unreachable!()
    };
    let mut subscription = client(&relay.base_url(), &token).subscribe();
    connected(&mut subscription).await;

    let before = create(&first, user, &["before 1", "before 2"]).await;
    assert_eq!(
        notifications_until(&mut subscription, before[1]).await,
        before
    );

    first.stop().await;
    expect_server_restart_close(&mut subscription).await;
    // While the client's server is down, another instance on the same
    // database takes the notifications.
    let other = spawn_app_with(&database_url, &[]).await;
    let during = create(&other, user, &["during 1", "during 2", "during 3"]).await;
    // The server comes back (a new process behind the same address).
    let restarted = spawn_app_with(&database_url, &[]).await;
    relay.point_to(addr(&restarted));
    connected(&mut subscription).await;
    let after = create(&restarted, user, &["after 1", "after 2"]).await;

    let yielded = notifications_until(&mut subscription, after[1]).await;
    let expected: Vec<_> = during.iter().chain(&after).copied().collect();
    assert_eq!(
        yielded, expected,
        "all of them, once each, in creation order"
    );
    other.stop().await;
    restarted.stop().await;
}

async fn a_user_without_notifications_misses_none_created_while_down(backend: Backend) {
    let database_url = backend.database_url().await;
    let first = spawn_app_with(&database_url, &[]).await;
    let relay = Relay::start(addr(&first)).await;
    let (user, token) = first.new_user();
    let mut subscription = client(&relay.base_url(), &token).subscribe();
    connected(&mut subscription).await;

    first.stop().await;
    // The disconnect is a close (or, should the stop race the upgrade, a
    // failed attempt).
    match next_event(&mut subscription).await {
        Event::Disconnected { .. } => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    let restarted = spawn_app_with(&database_url, &[]).await;
    let during = create(&restarted, user, &["first ever", "second ever"]).await;
    relay.point_to(addr(&restarted));
    let after = create(&restarted, user, &["live"]).await;

    let yielded = notifications_until(&mut subscription, after[0]).await;
    assert_eq!(yielded, [during[0], during[1], after[0]]);
    restarted.stop().await;
}

async fn a_notification_deleted_while_down_does_not_lose_the_resume_point(backend: Backend) {
    let database_url = backend.database_url().await;
    let first = spawn_app_with(&database_url, &[]).await;
    let relay = Relay::start(addr(&first)).await;
    let (user, token) = first.new_user();
    let mut subscription = client(&relay.base_url(), &token).subscribe();
    connected(&mut subscription).await;
    let seen = create(&first, user, &["kept", "to be deleted"]).await;
    assert_eq!(notifications_until(&mut subscription, seen[1]).await, seen);

    first.stop().await;
    expect_server_restart_close(&mut subscription).await;
    let restarted = spawn_app_with(&database_url, &[]).await;
    // The last notification seen disappears while the client cannot see it
    // happen: the resume point is a `seq`, which a delete does not remove.
    assert_eq!(restarted.delete(&token, &seen[1].to_string()).await, 204);
    let during = create(&restarted, user, &["missed 1", "missed 2"]).await;
    relay.point_to(addr(&restarted));
    let after = create(&restarted, user, &["live"]).await;

    let yielded = notifications_until(&mut subscription, after[0]).await;
    assert_eq!(yielded, [during[0], during[1], after[0]]);
    restarted.stop().await;
}

async fn subscribing_after_an_id_replays_what_followed_it_then_goes_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let old = create(&app, user, &["seen", "missed 1", "missed 2"]).await;
    let mut subscription = client(&app.base_url, &token).subscribe_after(old[0]);
    connected(&mut subscription).await;
    let live = create(&app, user, &["live"]).await;
    let yielded = notifications_until(&mut subscription, live[0]).await;
    assert_eq!(yielded, [old[1], old[2], live[0]]);
    app.stop().await;
}

on_both_backends!(
    a_server_restart_mid_stream_loses_nothing_and_repeats_nothing,
    a_user_without_notifications_misses_none_created_while_down,
    a_notification_deleted_while_down_does_not_lose_the_resume_point,
    subscribing_after_an_id_replays_what_followed_it_then_goes_live,
);
