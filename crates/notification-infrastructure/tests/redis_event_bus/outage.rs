//! A Redis outage: both nodes notice, report not ready, fail publishes fast,
//! come back by themselves when Redis does, and then tell their subscribers
//! that events may have been missed.

use std::time::Duration;

use notification_domain::{EventPublisher, PublishError};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::events::{RedisBusConfig, RedisEventBus};
use tokio::time::Instant;

use crate::support::{event, eventually, recorder, unique_config, Heard, PrivateRedis};

/// Reconnection is capped at 5 s in production; half a second keeps this test short.
fn config() -> RedisBusConfig {
    RedisBusConfig {
        reconnect_delay_max: Duration::from_millis(500),
        ..unique_config()
    }
}

async fn node_on(redis: &PrivateRedis, config: &RedisBusConfig) -> RedisEventBus {
    RedisEventBus::connect_with(&redis.url(), config.clone(), &BackgroundTasks::new())
        .await
        .unwrap_or_else(|e| panic!("the private redis-server at {}: {e}", redis.url()))
}

#[tokio::test]
async fn both_nodes_report_the_outage_then_reconnect_announce_a_gap_and_deliver_again() {
    let mut redis = PrivateRedis::start();
    let config = config();
    let (a, b) = (
        node_on(&redis, &config).await,
        node_on(&redis, &config).await,
    );
    let (a_subscriber, mut a_heard) = recorder();
    let (b_subscriber, mut b_heard) = recorder();
    a.subscribe(a_subscriber);
    b.subscribe(b_subscriber);
    let before = event(1);
    a.publish(before.clone()).await.unwrap();
    // The first subscription is not a gap: the event comes first.
    a_heard.expect("node A before the outage", &[&before]).await;
    b_heard.expect("node B before the outage", &[&before]).await;

    redis.kill();

    let outage_noticed = Instant::now();
    eventually(
        "both nodes report not ready",
        Duration::from_secs(10),
        || async { a.ping().await.is_err() && b.ping().await.is_err() },
    )
    .await;
    eprintln!(
        "outage noticed by both nodes in {:?}",
        outage_noticed.elapsed()
    );
    let publishing = Instant::now();
    let failed = a.publish(event(2)).await;
    eprintln!(
        "publish during the outage answered in {:?}",
        publishing.elapsed()
    );
    assert!(
        matches!(failed, Err(PublishError::Unavailable(_))),
        "{failed:?}"
    );

    redis.restart();

    let restarted = Instant::now();
    eventually(
        "both nodes are ready again",
        Duration::from_secs(20),
        || async { a.ping().await.is_ok() && b.ping().await.is_ok() },
    )
    .await;
    eprintln!(
        "both nodes ready {:?} after the restart",
        restarted.elapsed()
    );
    let after_from_a = event(3);
    let after_from_b = event(4);
    a.publish(after_from_a.clone()).await.unwrap();
    b.publish(after_from_b.clone()).await.unwrap();
    let expected = [&after_from_a, &after_from_b];
    // One gap per node, before anything heard on the restored subscription.
    a_heard.expect_gap("node A after the outage").await;
    a_heard.expect("node A after the outage", &expected).await;
    b_heard.expect_gap("node B after the outage").await;
    b_heard.expect("node B after the outage", &expected).await;
}

#[tokio::test]
async fn a_redis_that_stops_answering_makes_the_node_not_ready_until_it_answers_again() {
    let redis = PrivateRedis::start();
    let config = RedisBusConfig {
        keepalive_interval: Duration::from_millis(200),
        ..config()
    };
    let bus = node_on(&redis, &config).await;
    let (subscriber, mut heard) = recorder();
    bus.subscribe(subscriber);

    redis.freeze(true);

    eventually(
        "the node reports not ready",
        Duration::from_secs(10),
        || async { bus.ping().await.is_err() },
    )
    .await;
    let publishing = Instant::now();
    let failed = bus.publish(event(1)).await;
    eprintln!(
        "publish to a frozen Redis answered in {:?}",
        publishing.elapsed()
    );
    assert!(
        matches!(failed, Err(PublishError::Unavailable(_))),
        "{failed:?}"
    );

    redis.freeze(false);

    let thawed = Instant::now();
    eventually(
        "the node is ready again",
        Duration::from_secs(20),
        || async { bus.ping().await.is_ok() },
    )
    .await;
    eprintln!("ready {:?} after Redis answered again", thawed.elapsed());
    let after = event(2);
    bus.publish(after.clone()).await.unwrap();
    // The event published while frozen may or may not arrive (Redis may have
    // read it before it froze); what matters is that the lost subscription
    // is announced as a gap once, and that new events arrive after it.
    let mut gaps = 0;
    loop {
        match heard.next_heard("node after the freeze").await {
            Heard::Gap => gaps += 1,
            Heard::Event(got) if got == after => break,
            Heard::Event(_frozen) => {}
        }
    }
    assert_eq!(gaps, 1, "one gap, before the event published after it");
}
