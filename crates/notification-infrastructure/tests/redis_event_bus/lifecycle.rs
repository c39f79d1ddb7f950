//! Start-up, readiness and stopping.

use std::time::Duration;

use notification_domain::EventPublisher;
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::events::{RedisBusError, RedisEventBus};

use crate::support::{event, eventually, node, recorder, subscriber_count, unique_config};

#[tokio::test]
async fn a_connected_bus_is_ready_at_once() {
    let bus = node(&unique_config()).await;
    assert!(bus.ping().await.is_ok());
}

#[tokio::test]
async fn connecting_to_a_redis_that_is_not_there_fails_with_its_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let url = format!("redis://:secret@127.0.0.1:{port}");

    let err = RedisEventBus::connect(&url, &BackgroundTasks::new())
        .await
        .err();

    let Some(err @ RedisBusError::Unreachable { .. }) = err else {
        panic!("expected Unreachable, got {err:?}");
    };
    let message = err.to_string();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(!message.contains("secret"), "{message}");
}

#[tokio::test]
async fn after_shutdown_the_node_unsubscribes_and_is_not_ready() {
    let config = unique_config();
    let bus = node(&config).await;
    let (subscriber, _heard) = recorder();
    bus.subscribe(subscriber);
    assert_eq!(subscriber_count(&config.channel).await, 1);

    bus.shutdown().await;

    assert!(bus.ping().await.is_err(), "a stopped bus hears nothing");
    eventually(
        "Redis sees the subscription closed",
        Duration::from_secs(10),
        || async { subscriber_count(&config.channel).await == 0 },
    )
    .await;
    // Publishing still works: the node can serve other nodes' sockets.
    assert!(bus.publish(event(1)).await.is_ok());
}

#[tokio::test]
async fn dropping_the_bus_stops_its_subscription() {
    let config = unique_config();
    let (kept, dropped) = (node(&config).await, node(&config).await);
    assert_eq!(subscriber_count(&config.channel).await, 2);

    drop(dropped);

    eventually(
        "Redis sees the dropped bus's subscription closed",
        Duration::from_secs(10),
        || async { subscriber_count(&config.channel).await == 1 },
    )
    .await;
    assert!(kept.ping().await.is_ok());
}

#[tokio::test]
async fn shutting_down_the_background_tasks_stops_the_subscription() {
    let config = unique_config();
    let tasks = BackgroundTasks::new();
    let bus =
        RedisEventBus::connect_with(&crate::support::shared_redis_url(), config.clone(), &tasks)
            .await
            .unwrap();
    assert_eq!(subscriber_count(&config.channel).await, 1);

    tasks.shutdown().await;

    assert!(bus.ping().await.is_err(), "a stopped bus is not ready");
    eventually(
        "Redis sees the subscription closed",
        Duration::from_secs(10),
        || async { subscriber_count(&config.channel).await == 0 },
    )
    .await;
}
