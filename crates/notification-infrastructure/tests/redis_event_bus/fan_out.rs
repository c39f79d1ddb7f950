//! Events published on any node reach every node's subscribers once.

use notification_domain::EventPublisher;

use crate::support::{event, node, raw_connection, recorder, unique_config};

#[tokio::test]
async fn an_event_published_on_one_node_reaches_every_subscriber_of_every_node_exactly_once() {
    let config = unique_config();
    let (a, b) = (node(&config).await, node(&config).await);
    let (a_first, mut a_first_heard) = recorder();
    let (a_second, mut a_second_heard) = recorder();
    let (b_only, mut b_heard) = recorder();
    a.subscribe(a_first);
    a.subscribe(a_second);
    b.subscribe(b_only);
    let (from_a, from_b, marker) = (event(1), event(2), event(3));

    a.publish(from_a.clone()).await.unwrap();
    b.publish(from_b.clone()).await.unwrap();
    // Redis delivers in the order it accepted the publishes, so a duplicate
    // of an earlier event (a local echo, say) would show up before the marker.
    a.publish(marker.clone()).await.unwrap();

    let expected = [&from_a, &from_b, &marker];
    a_first_heard
        .expect("node A, first subscriber", &expected)
        .await;
    a_second_heard
        .expect("node A, second subscriber", &expected)
        .await;
    b_heard.expect("node B", &expected).await;
}

#[tokio::test]
async fn a_node_with_no_subscriber_still_publishes_to_the_others() {
    let config = unique_config();
    let (silent, listening) = (node(&config).await, node(&config).await);
    let (subscriber, mut heard) = recorder();
    listening.subscribe(subscriber);
    let sent = event(7);

    silent.publish(sent.clone()).await.unwrap();

    heard.expect("listening node", &[&sent]).await;
}

#[tokio::test]
async fn messages_a_node_cannot_decode_are_skipped_and_later_events_still_arrive() {
    let config = unique_config();
    let bus = node(&config).await;
    let (subscriber, mut heard) = recorder();
    bus.subscribe(subscriber);
    let mut redis = raw_connection().await;
    let from_a_newer_release = r#"{"v": 99, "event": {"type": "notification_teleported"}}"#;
    for junk in ["not json at all", from_a_newer_release, r#"{"v": 1}"#] {
        let _: u64 = redis::cmd("PUBLISH")
            .arg(&config.channel)
            .arg(junk)
            .query_async(&mut redis)
            .await
            .unwrap();
    }
    let good = event(1);

    bus.publish(good.clone()).await.unwrap();

    heard.expect("node", &[&good]).await;
    assert!(bus.ping().await.is_ok(), "the bus keeps running");
}
