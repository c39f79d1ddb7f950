//! A Redis outage: both nodes notice, report not ready, fail publishes fast,
//! and come back by themselves when Redis does.

use std::time::Duration;

use notification_domain::{EventPublisher, PublishError};
use notification_infrastructure::events::{RedisBusConfig, RedisEventBus};
use tokio::time::Instant;

use crate::support::{event, eventually, recorder, unique_config, PrivateRedis};

/// Reconnection is capped at 5 s in production; half a second keeps this test short.
fn config() -> RedisBusConfig {
    RedisBusConfig {
        reconnect_delay_max: Duration::from_millis(500),
        ..unique_config()
    }
}

async fn node_on(redis: &PrivateRedis, config: &RedisBusConfig) -> RedisEventBus {
    RedisEventBus::connect_with(&redis.url(), config.clone())
        .await
        .unwrap_or_else(|e| panic!("the private redis-server at {}: {e}", redis.url()))
}

#[tokio::test]
async fn both_nodes_report_the_outage_then_reconnect_by_themselves_and_deliver_again() {
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
    a_heard.expect("node A after the outage", &expected).await;
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
    // read it before it froze); what matters is that new events do.
    let mut got = heard.next("node after the freeze").await;
    if got != after {
        got = heard.next("node after the freeze").await;
    }
    assert_eq!(got, after);
}
