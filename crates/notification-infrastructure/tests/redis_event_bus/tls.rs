//! `rediss://`: the bus over TLS to a private `redis-server --tls-port`, its
//! certificate signed by a CA of the test's own, trusted through
//! `TLS_CA_FILE` (`RedisBusConfig::private_ca`).

use notification_domain::EventPublisher;
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::events::{RedisBusConfig, RedisBusError, RedisEventBus};
use notification_infrastructure::testing::{PrivateRedis, TestCa};
use notification_infrastructure::tls::{install_crypto_provider, PrivateCa};

use crate::support::{event, recorder, show_logs, unique_config};

async fn connect(url: &str, config: RedisBusConfig) -> Result<RedisEventBus, RedisBusError> {
    show_logs();
    install_crypto_provider();
    RedisEventBus::connect_with(url, config, &BackgroundTasks::new()).await
}

fn trusting(ca: &TestCa) -> RedisBusConfig {
    unique_config().with_private_ca(Some(PrivateCa::read(ca.ca_file()).unwrap()))
}

#[tokio::test]
async fn over_rediss_with_the_private_ca_an_event_reaches_the_other_node() {
    let ca = TestCa::new();
    let redis = PrivateRedis::start_with_tls(&ca);
    assert!(redis.url().starts_with("rediss://"), "{}", redis.url());
    let config = trusting(&ca);
    let publisher = connect(&redis.url(), config.clone()).await.unwrap();
    let listener = connect(&redis.url(), config).await.unwrap();
    let (subscriber, mut heard) = recorder();
    listener.subscribe(subscriber);
    let sent = event(11);

    publisher.publish(sent.clone()).await.unwrap();

    heard.expect("node over TLS", &[&sent]).await;
    publisher.ping().await.unwrap();
}

#[tokio::test]
async fn a_certificate_from_another_ca_stops_the_connection_as_a_certificate_error() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let redis = PrivateRedis::start_with_tls(&ca);

    let with_wrong_ca = connect(&redis.url(), trusting(&other)).await.err();
    let with_system_roots_only = connect(&redis.url(), unique_config()).await.err();

    for (what, error) in [
        ("the wrong CA", with_wrong_ca),
        ("the system's roots only", with_system_roots_only),
    ] {
        assert!(
            matches!(error, Some(RedisBusError::Certificate { .. })),
            "{what}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_plain_redis_url_to_a_tls_port_is_refused_as_unreachable() {
    let ca = TestCa::new();
    let redis = PrivateRedis::start_with_tls(&ca);
    let plain = redis.url().replacen("rediss://", "redis://", 1);

    let error = connect(&plain, trusting(&ca)).await.err();

    assert!(
        matches!(error, Some(RedisBusError::Unreachable { .. })),
        "{error:?}"
    );
}
