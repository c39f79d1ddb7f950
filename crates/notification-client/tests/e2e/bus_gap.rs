//! A Redis outage under a connected subscription: the server closes the
//! socket with 1012 once its event bus is back, and the subscription resumes
//! at once with `since`, yielding what the outage kept from the socket.

use notification_client::{DisconnectReason, Event};
use notification_e2e::{spawn_app_with, Backend};
use notification_infrastructure::testing::PrivateRedis;

use crate::support::{config, connected, create, next_event, notifications_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_outage_the_subscription_resumes_at_once_and_misses_nothing() {
    let mut redis = PrivateRedis::start();
    let database_url = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(&database_url, &["--event-bus-url", &redis.url()]).await;
    let (user, token) = app.new_user();
    let config = config(&app.base_url, &token);
    let first_wait = config.reconnect.initial;
    let mut subscription = notification_client::NotificationClient::new(config)
        .expect("a valid base URL")
        .subscribe();
    connected(&mut subscription).await;
    let before = create(&app, user, &["before the outage"]).await;
    assert_eq!(
        notifications_until(&mut subscription, before[0]).await,
        before
    );

    redis.kill();
    // Stored, but its event reaches no socket: the bus is down.
    let during = create(&app, user, &["during the outage"]).await;
    redis.restart();

    match next_event(&mut subscription).await {
        Event::Disconnected {
            reason: DisconnectReason::Closed { code, reason },
            retry_in,
        } => {
            assert_eq!(code, 1012, "{reason}");
            assert!(
                retry_in <= first_wait,
                "a resync is retried after the shortest wait, not {retry_in:?}"
            );
        }
        other => panic!("expected the 1012 close, got {other:?}"),
    }
    connected(&mut subscription).await;
    let after = create(&app, user, &["after the outage"]).await;

    let yielded = notifications_until(&mut subscription, after[0]).await;
    assert_eq!(
        yielded,
        [during[0], after[0]],
        "once each, in creation order"
    );
    app.stop().await;
}
