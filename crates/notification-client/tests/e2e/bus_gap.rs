//! A Redis outage under a connected subscription: once the server's event bus
//! is back, it reads what its sockets missed from the change log and sends it
//! in order; the subscription stays open and misses nothing.

use notification_client::Event;
use notification_e2e::{spawn_app_with, Backend};
use notification_infrastructure::testing::PrivateRedis;

use crate::support::{config, connected, create, next_event, notifications_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_outage_the_subscription_gets_what_it_missed_without_reconnecting() {
    let mut redis = PrivateRedis::start();
    let database_url = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(&database_url, &["--event-bus-url", &redis.url()]).await;
    let (user, token) = app.new_user();
    let mut subscription =
        notification_client::NotificationClient::new(config(&app.base_url, &token))
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

    // Healed from the log: no disconnect comes first.
    match next_event(&mut subscription).await {
        Event::Notification {
            notification, seq, ..
        } => {
            assert_eq!(notification.notification_id, during[0]);
            assert_eq!(seq, 2);
        }
        other => panic!("expected the missed notification, got {other:?}"),
    }
    let after = create(&app, user, &["after the outage"]).await;
    assert_eq!(
        notifications_until(&mut subscription, after[0]).await,
        after
    );
    app.stop().await;
}
