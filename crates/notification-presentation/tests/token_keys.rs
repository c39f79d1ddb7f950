//! Key loading, token issuing and the WebSocket token lookup, without HTTP
//! (the HTTP behaviour of tokens is tested against the real server in the
//! workspace's end-to-end tests).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::Duration;

use actix_web::http::header::AUTHORIZATION;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::ResponseError;
use jsonwebtoken::Algorithm;
use notification_presentation::{
    authenticate_websocket, ApiError, AuthError, JwtConfigError, JwtKey, JwtSettings, TokenIssuer,
    TokenVerifier, PUBLISH_SCOPE,
};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// The HS256 secret of these tests (36 bytes).
const SECRET: &[u8] = b"test-secret-0123456789-0123456789-ab";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hs256_settings() -> JwtSettings {
    JwtSettings::new(JwtKey::hs256(SECRET).unwrap())
}

fn key_from(name: &str) -> Result<JwtKey, JwtConfigError> {
    JwtKey::from_public_key_pem(fixture(name).as_bytes())
}

fn verifier_for_pem(name: &str) -> TokenVerifier {
    TokenVerifier::new(JwtSettings::new(key_from(name).unwrap())).unwrap()
}

#[test]
fn the_algorithm_is_recognised_from_the_public_key() {
    assert_eq!(
        verifier_for_pem("rsa_public.pem").algorithm(),
        Some(Algorithm::RS256)
    );
    assert_eq!(
        verifier_for_pem("rsa_public_pkcs1.pem").algorithm(),
        Some(Algorithm::RS256)
    );
    assert_eq!(
        verifier_for_pem("ec_public.pem").algorithm(),
        Some(Algorithm::ES256)
    );
    assert_eq!(
        TokenVerifier::new(hs256_settings()).unwrap().algorithm(),
        Some(Algorithm::HS256)
    );
}

#[test]
fn keys_we_cannot_pin_to_rs256_or_es256_are_refused_at_start_up() {
    for name in [
        "ec_p384_public.pem",
        "rsa_1024_public.pem",
        "ed25519_public.pem",
        "rsa_private.pem",
    ] {
        assert!(
            matches!(key_from(name), Err(JwtConfigError::UnsupportedPublicKey)),
            "{name}"
        );
    }
    for garbage in [&b"not a pem"[..], b"\xff\xfe"] {
        assert!(matches!(
            JwtKey::from_public_key_pem(garbage),
            Err(JwtConfigError::UnsupportedPublicKey)
        ));
    }
}

#[test]
fn a_missing_key_file_names_the_path() {
    let err = JwtKey::from_public_key_file("/nonexistent/key.pem").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/key.pem"), "{err}");
}

#[test]
fn a_key_file_is_read_and_recognised() {
    let path = format!(
        "{}/tests/fixtures/ec_public.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let key = JwtKey::from_public_key_file(path).unwrap();
    assert_eq!(key.algorithm(), Algorithm::ES256);
    let verifier = TokenVerifier::new(JwtSettings::new(key)).unwrap();
    assert_eq!(verifier.algorithm(), Some(Algorithm::ES256));
}

#[test]
fn issued_tokens_verify_and_carry_sub_scope_and_expiry() {
    let settings = hs256_settings();
    let issuer = TokenIssuer::from_settings(&settings).unwrap();
    let verifier = TokenVerifier::new(settings).unwrap();
    let sub = Uuid::now_v7();

    let before = unix_now() as i64;
    let token = issuer
        .issue(sub, Some(PUBLISH_SCOPE), Duration::from_secs(600))
        .unwrap();
    let after = unix_now() as i64;

    let user = verifier.verify(&token).unwrap();
    assert_eq!(*user.user_id().as_uuid(), sub);
    assert!(user.is_publisher());
    assert_eq!(user.scopes(), [PUBLISH_SCOPE.to_owned()]);
    assert!((before + 600..=after + 600).contains(&user.expires_at()));

    let plain = issuer.issue(sub, None, Duration::from_secs(600)).unwrap();
    assert!(!verifier.verify(&plain).unwrap().is_publisher());
}

#[test]
fn an_issuer_from_settings_signs_what_a_verifier_with_issuer_and_audience_accepts() {
    let settings = JwtSettings {
        key: JwtKey::hs256(SECRET).unwrap(),
        issuer: Some("notification-api".into()),
        audience: Some("notifications".into()),
    };
    let verifier = TokenVerifier::new(settings.clone()).unwrap();
    let sub = Uuid::now_v7();
    let ttl = Duration::from_secs(60);

    let with_claims = TokenIssuer::from_settings(&settings).unwrap();
    assert!(verifier
        .verify(&with_claims.issue(sub, None, ttl).unwrap())
        .is_ok());

    let bare = TokenIssuer::new(&settings.key).unwrap();
    assert!(verifier
        .verify(&bare.issue(sub, None, ttl).unwrap())
        .is_err());
}

#[test]
fn tokens_cannot_be_issued_with_a_public_key() {
    let key = key_from("rsa_public.pem").unwrap();
    assert!(matches!(
        TokenIssuer::new(&key),
        Err(JwtConfigError::IssuerNeedsSecret)
    ));
}

#[test]
fn an_absurd_lifetime_is_an_error_not_a_panic() {
    let issuer = TokenIssuer::from_settings(&hs256_settings()).unwrap();
    assert!(issuer
        .issue(Uuid::now_v7(), None, Duration::from_secs(u64::MAX))
        .is_err());
}

fn ws_request(header: Option<&str>, query: &str) -> actix_web::HttpRequest {
    let mut request = TestRequest::get().uri(&format!("/ws/notifications{query}"));
    if let Some(token) = header {
        request = request.insert_header((AUTHORIZATION, format!("Bearer {token}")));
    }
    request.to_http_request()
}

#[actix_web::test]
async fn a_websocket_may_authenticate_with_the_query_token() {
    let settings = hs256_settings();
    let issuer = TokenIssuer::from_settings(&settings).unwrap();
    let verifier = TokenVerifier::new(settings).unwrap();
    let user = Uuid::now_v7();
    let token = issuer.issue(user, None, Duration::from_secs(60)).unwrap();

    let authenticated = authenticate_websocket(
        &ws_request(None, &format!("?since=x&token={token}")),
        &verifier,
    )
    .await
    .unwrap();
    assert_eq!(*authenticated.user_id().as_uuid(), user);
}

#[actix_web::test]
async fn the_header_wins_over_the_query_token() {
    let settings = hs256_settings();
    let issuer = TokenIssuer::from_settings(&settings).unwrap();
    let verifier = TokenVerifier::new(settings).unwrap();
    let (header_user, query_user) = (Uuid::now_v7(), Uuid::now_v7());
    let header_token = issuer
        .issue(header_user, None, Duration::from_secs(60))
        .unwrap();
    let query_token = issuer
        .issue(query_user, None, Duration::from_secs(60))
        .unwrap();

    let authenticated = authenticate_websocket(
        &ws_request(Some(&header_token), &format!("?token={query_token}")),
        &verifier,
    )
    .await
    .unwrap();
    assert_eq!(*authenticated.user_id().as_uuid(), header_user);

    // A bad header is not rescued by a good query token.
    let refused = authenticate_websocket(
        &ws_request(Some("garbage"), &format!("?token={query_token}")),
        &verifier,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.status_code(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_websocket_without_any_token_is_unauthorized() {
    let verifier = TokenVerifier::new(hs256_settings()).unwrap();
    let refused = authenticate_websocket(&ws_request(None, "?token="), &verifier)
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        ApiError::Unauthorized(AuthError::MissingToken)
    ));
    assert_eq!(refused.status_code(), StatusCode::UNAUTHORIZED);
}
