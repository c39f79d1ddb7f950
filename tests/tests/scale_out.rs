//! Several nodes sharing PostgreSQL, fanned out through Redis (issue "Scale
//! out"): a socket may sit on any node and a change may be made through any
//! node; each socket gets each message exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::Duration;

use notification_e2e::{spawn_app_with, Backend, TestApp};
use notification_infrastructure::testing::PrivateRedis;
use reqwest::Method;

/// The shared test Redis (`TEST_REDIS_URL`, default the local one).
fn shared_redis() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Two nodes on two ports, one PostgreSQL database, one Redis.
async fn two_nodes(redis_url: &str) -> (TestApp, TestApp) {
    let database = Backend::Postgres.database_url().await;
    let a = spawn_app_with(&database, &["--event-bus-url", redis_url]).await;
    let b = spawn_app_with(&database, &["--event-bus-url", redis_url]).await;
    (a, b)
}

async fn ready(app: &TestApp) -> u16 {
    app.request(Method::GET, "/readyz", None)
        .await
        .status()
        .as_u16()
}

/// Polls `condition` every 20 ms for at most ten seconds.
async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not the case after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_on_node_a_gets_a_notification_created_through_node_b_exactly_once() {
    let (a, b) = two_nodes(&shared_redis()).await;
    let (user, token) = a.new_user();
    let mut on_a = a.ws(&token).await;

    let created = b.create_for(user, "from b").await;
    let message = on_a.expect("notification").await;
    assert_eq!(message["data"], created);

    // Exactly once: the next message is the next notification, not a copy.
    let marker = b.create_for(user, "marker").await;
    assert_eq!(on_a.expect("notification").await["data"], marker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_through_node_a_reaches_sockets_on_both_nodes() {
    let (a, b) = two_nodes(&shared_redis()).await;
    let (user, token) = a.new_user();
    let mut on_a = a.ws(&token).await;
    let mut on_b = b.ws(&token).await;
    let created = a.create_for(user, "n").await;
    on_a.expect("notification").await;
    on_b.expect("notification").await;

    let id = created["notification_id"].as_str().unwrap();
    a.act(&token, id, "read").await;
    for socket in [&mut on_a, &mut on_b] {
        let update = socket.expect("notification_update").await;
        assert_eq!(update["update_type"], "read");
        assert_eq!(update["notification_id"], id);
        assert_eq!(update["unread_count"], 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_spread_over_two_nodes_see_every_change_once_and_in_order() {
    let (a, b) = two_nodes(&shared_redis()).await;
    let (user, token) = a.new_user();
    let mut devices = vec![a.ws(&token).await, b.ws(&token).await, a.ws(&token).await];

    let first = a.create_for(user, "one").await;
    let second = b.create_for(user, "two").await;
    let first_id = first["notification_id"].as_str().unwrap().to_owned();
    b.act(&token, &first_id, "archive").await;
    a.read_all(&token).await;
    assert_eq!(b.delete(&token, &first_id).await, 204);

    for device in &mut devices {
        assert_eq!(device.expect("notification").await["data"], first);
        assert_eq!(device.expect("notification").await["data"], second);
        assert_eq!(
            device.expect("notification_update").await["update_type"],
            "archive"
        );
        let all = device.expect("notification_update").await;
        assert_eq!(all["update_type"], "read_all");
        assert_eq!(all["data"]["updated"], 1);
        assert_eq!(
            device.expect("notification_update").await["update_type"],
            "delete"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_nodes_survive_a_redis_restart_and_readyz_shows_the_outage() {
    let mut redis = PrivateRedis::start();
    let (a, b) = two_nodes(&redis.url()).await;
    let (user, token) = a.new_user();
    let mut on_a = a.ws(&token).await;
    let mut on_b = b.ws(&token).await;
    assert_eq!(ready(&a).await, 200);
    assert_eq!(ready(&b).await, 200);
    let before = a.create_for(user, "before the outage").await;
    for socket in [&mut on_a, &mut on_b] {
        assert_eq!(socket.expect("notification").await["data"], before);
    }

    redis.kill();
    eventually("node A reports not ready", async || ready(&a).await == 503).await;
    eventually("node B reports not ready", async || ready(&b).await == 503).await;
    // Requests keep working while Redis is down: the notification is stored,
    // but its event reaches no socket (nothing is delivered without Redis).
    let during = a.create_for(user, "during the outage").await;
    let (status, _) = b
        .get(&token, during["notification_id"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);

    redis.restart();
    eventually("node A is ready again", async || ready(&a).await == 200).await;
    eventually("node B is ready again", async || ready(&b).await == 200).await;

    // Each node knows its sockets may have missed events: it reads what they
    // missed from the change log and sends it, without closing them.
    for socket in [&mut on_a, &mut on_b] {
        let healed = socket.expect("notification").await;
        assert_eq!(
            (&healed["data"], healed["seq"].as_u64()),
            (&during, Some(2))
        );
    }
    let after = b.create_for(user, "after the outage").await;
    for socket in [&mut on_a, &mut on_b] {
        assert_eq!(socket.expect("notification").await["data"], after);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_has_stopped_its_event_bus_by_the_time_stop_returns() {
    let redis = PrivateRedis::start();
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(&database, &["--event-bus-url", &redis.url()]).await;
    assert!(app.service.check_ready().await.is_ok());

    app.stop().await;

    // The subscription task has ended (not merely been asked to): the bus no
    // longer reports itself subscribed, though Redis is still up.
    assert!(
        app.service.check_ready().await.is_err(),
        "the event bus still listens after shutdown"
    );
}
