//! `JWT_JWKS_URL` (contract §9): tokens verified with the key of a JWKS named
//! by their `kid`, against an endpoint of the test's own that rotates keys
//! and fails on demand.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use notification_api::settings::AuthSettings;
use notification_e2e::jwks::{key_set, public_jwk, sign_with_kid, Answer, JwksServer};
use serde_json::{json, Value};
use uuid::Uuid;

use notification_infrastructure::testing::TestCa;

use crate::{
    ec_key, rsa_key, spawn_app_with_auth, spawn_app_with_settings, Backend, Method, TestApp,
};

fn claims() -> Value {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    json!({"sub": Uuid::now_v7(), "exp": exp})
}

fn rs256(kid: Option<&str>) -> String {
    sign_with_kid(
        &claims(),
        Algorithm::RS256,
        &rsa_key("rsa_private.pem"),
        kid,
    )
}

fn rs256_other_key(kid: Option<&str>) -> String {
    sign_with_kid(
        &claims(),
        Algorithm::RS256,
        &rsa_key("rsa_other_private.pem"),
        kid,
    )
}

fn es256(kid: Option<&str>) -> String {
    sign_with_kid(&claims(), Algorithm::ES256, &ec_key("ec_private.pem"), kid)
}

fn rsa_jwk(kid: &str) -> Value {
    public_jwk(&rsa_key("rsa_private.pem"), Algorithm::RS256, Some(kid))
}

fn other_rsa_jwk(kid: &str) -> Value {
    public_jwk(
        &rsa_key("rsa_other_private.pem"),
        Algorithm::RS256,
        Some(kid),
    )
}

fn ec_jwk(kid: &str) -> Value {
    public_jwk(&ec_key("ec_private.pem"), Algorithm::ES256, Some(kid))
}

/// A server verifying with `jwks`; `refetch_gap` replaces the contract's 10 s
/// where a test needs every unknown `kid` to fetch again.
async fn app_with_jwks(jwks: &JwksServer, refetch_gap: Option<Duration>) -> TestApp {
    let database = Backend::Sqlite.database_url().await;
    spawn_app_with_settings(&database, &["--jwt-jwks-url", jwks.url()], |settings| {
        let AuthSettings::Jwks { jwks, .. } = &mut settings.auth else {
            panic!("--jwt-jwks-url did not select the JWKS");
        };
        if let Some(gap) = refetch_gap {
            jwks.refetch_gap = gap;
        }
    })
    .await
}

/// The status of `GET /api/v1/notifications/unread-count` with `token`.
async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.request(
        Method::GET,
        "/api/v1/notifications/unread-count",
        Some(token),
    )
    .await
    .status()
    .as_u16()
}

async fn readyz(app: &TestApp) -> u16 {
    app.request(Method::GET, "/readyz", None)
        .await
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_verified_with_the_key_their_kid_names_and_its_algorithm_only() {
    let jwks = JwksServer::start(key_set(&[rsa_jwk("rsa-1"), ec_jwk("ec-1")])).await;
    let app = app_with_jwks(&jwks, None).await;

    assert_eq!(readyz(&app).await, 200);
    assert_eq!(status_with(&app, &rs256(Some("rsa-1"))).await, 200);
    assert_eq!(status_with(&app, &es256(Some("ec-1"))).await, 200);
    // The right kid with another key's signature, or another algorithm.
    assert_eq!(
        status_with(&app, &rs256_other_key(Some("rsa-1"))).await,
        401
    );
    assert_eq!(status_with(&app, &es256(Some("rsa-1"))).await, 401);
    // Several keys: a token without kid cannot say which one.
    assert_eq!(status_with(&app, &rs256(None)).await, 401);
    assert_eq!(jwks.fetches(), 1, "verified from the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_single_key_in_the_set_a_token_without_kid_is_verified_with_it() {
    let jwks = JwksServer::start(key_set(&[rsa_jwk("only")])).await;
    let app = app_with_jwks(&jwks, None).await;

    assert_eq!(status_with(&app, &rs256(None)).await, 200);
    assert_eq!(status_with(&app, &rs256_other_key(None)).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_when_a_token_names_it_and_a_retired_one_is_refused() {
    let jwks = JwksServer::start(key_set(&[rsa_jwk("2026-11")])).await;
    let app = app_with_jwks(&jwks, Some(Duration::ZERO)).await;
    assert_eq!(status_with(&app, &rs256(Some("2026-11"))).await, 200);

    // The provider rotates: a new key under a new kid, the old one retired.
    jwks.answer(key_set(&[other_rsa_jwk("2026-12")]));

    assert_eq!(
        status_with(&app, &rs256_other_key(Some("2026-12"))).await,
        200
    );
    assert_eq!(jwks.fetches(), 2, "one fetch for the new kid");
    assert_eq!(status_with(&app, &rs256(Some("2026-11"))).await, 401);
    assert_eq!(
        jwks.fetches(),
        3,
        "the retired kid was looked for once more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_fetch_the_set_again_at_most_once_per_10_seconds() {
    let jwks = JwksServer::start(key_set(&[rsa_jwk("current")])).await;
    let app = app_with_jwks(&jwks, None).await;
    assert_eq!(jwks.fetches(), 1, "loaded at start-up");

    for _ in 0..5 {
        let made_up = Uuid::new_v4().to_string();
        assert_eq!(status_with(&app, &rs256(Some(&made_up))).await, 401);
    }

    assert_eq!(
        jwks.fetches(),
        1,
        "no refetch within 10 s of the start-up fetch"
    );
    assert_eq!(status_with(&app, &rs256(Some("current"))).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_jwks_at_start_means_not_ready_and_401_until_it_loads() {
    let jwks = JwksServer::start(Answer::Status(503)).await;
    let app = app_with_jwks(&jwks, Some(Duration::ZERO)).await;

    assert_eq!(readyz(&app).await, 503);
    assert_eq!(status_with(&app, &rs256(Some("k"))).await, 401);

    jwks.answer(key_set(&[rsa_jwk("k")]));

    // The token's kid is unknown (nothing is loaded), so it fetches again.
    assert_eq!(status_with(&app, &rs256(Some("k"))).await, 200);
    assert_eq!(readyz(&app).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_set_is_fetched_again_on_a_schedule() {
    let jwks = JwksServer::start(key_set(&[rsa_jwk("k")])).await;
    let database = Backend::Sqlite.database_url().await;
    let _app = spawn_app_with_settings(&database, &["--jwt-jwks-url", jwks.url()], |settings| {
        if let AuthSettings::Jwks { jwks, .. } = &mut settings.auth {
            jwks.refresh_every = Duration::from_millis(50);
        }
    })
    .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while jwks.fetches() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} fetches",
            jwks.fetches()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_jwks_of_a_private_ca_is_trusted_through_tls_ca_file_only() {
    let ca = TestCa::new();
    let jwks = JwksServer::start_tls(key_set(&[rsa_jwk("k")]), &ca).await;
    assert!(jwks.url().starts_with("https://"));
    let database = Backend::Sqlite.database_url().await;
    let ca_file = ca.ca_file().display().to_string();
    let trusting = spawn_app_with_auth(
        &database,
        &["--jwt-jwks-url", jwks.url(), "--tls-ca-file", &ca_file],
    )
    .await;
    let not_trusting = app_with_jwks(&jwks, None).await;

    assert_eq!(readyz(&trusting).await, 200);
    assert_eq!(status_with(&trusting, &rs256(Some("k"))).await, 200);
    assert_eq!(
        readyz(&not_trusting).await,
        503,
        "the system's roots do not know our CA"
    );
    assert_eq!(status_with(&not_trusting, &rs256(Some("k"))).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_upgrade_with_a_rotated_key_waits_for_the_fetch_and_opens() {
    let jwks = JwksServer::start(key_set(&[rsa_jwk("old")])).await;
    let app = app_with_jwks(&jwks, Some(Duration::ZERO)).await;
    jwks.answer(key_set(&[other_rsa_jwk("new")]));

    let mut socket = app.ws(&rs256_other_key(Some("new"))).await;

    socket.send_text(r#"{"type":"ping"}"#).await;
    socket.expect("pong").await;
    assert_eq!(
        jwks.fetches(),
        2,
        "the upgrade fetched the set for the new kid"
    );
}
