//! The authentication matrix, through HTTP: every refused token is a 401 in
//! the contract's shape with a `WWW-Authenticate: Bearer` challenge.

use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::*;

const PROTECTED: &str = "/api/v1/notifications/unread-count";

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims of a valid token for `sub`, valid for an hour.
fn claims_for(sub: Uuid) -> Value {
    json!({ "sub": sub.to_string(), "exp": unix_now() + 3600 })
}

/// The test secret as an HS256 signing key.
fn test_key() -> jsonwebtoken::EncodingKey {
    hs256_key(TEST_SECRET.as_bytes())
}

/// Asserts `token` is refused by `app` with a 401; returns the message.
async fn assert_refused(app: &TestApp, token: &str) -> String {
    let reply = app.call(Method::GET, PROTECTED, token).await;
    let error = reply.assert_error(401, "unauthorized");
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    error["message"].as_str().unwrap().to_owned()
}

async fn assert_accepted(app: &TestApp, token: &str) {
    let reply = app.call(Method::GET, PROTECTED, token).await;
    assert_eq!(reply.status, 200, "{}", reply.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_token_gets_a_bare_bearer_challenge() {
    let app = app().await;
    let reply = app.send(app.http(Method::GET, PROTECTED)).await;
    reply.assert_error(401, "unauthorized");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_user_token_is_accepted() {
    let app = app().await;
    assert_accepted(&app, &app.user_token(Uuid::now_v7())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_bearer_authorization_header_is_refused() {
    let app = app().await;
    let reply = app
        .send(
            app.http(Method::GET, PROTECTED)
                .header("authorization", "Basic dXNlcjpwYXNzd29yZA=="),
        )
        .await;
    reply.assert_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_token_is_refused() {
    let app = app().await;
    for token in ["not-a-jwt", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30"] {
        assert_refused(&app, token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_another_secret_is_refused() {
    let app = app().await;
    let token = sign_with(
        &claims_for(Uuid::now_v7()),
        Algorithm::HS256,
        &hs256_key(b"another-secret-another-secret-another"),
    );
    assert_refused(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_as_expired() {
    let app = app().await;
    let claims = json!({"sub": Uuid::now_v7().to_string(), "exp": unix_now() - 120});
    let token = sign_with(&claims, Algorithm::HS256, &test_key());
    assert_eq!(assert_refused(&app, &token).await, "token expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alg_none_token_is_refused() {
    let app = app().await;
    // {"alg":"none","typ":"JWT"} . {"sub":"123e4567-…","exp":4102444800} . (no signature)
    let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.\
                 eyJzdWIiOiIxMjNlNDU2Ny1lODliLTEyZDMtYTQ1Ni00MjY2MTQxNzQwMDEiLCJleHAiOjQxMDI0NDQ4MDB9.";
    assert_refused(&app, token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_that_break_the_rules_are_refused() {
    let app = app().await;
    let user = Uuid::now_v7().to_string();
    let exp = unix_now() + 3600;
    let cases = [
        json!({"exp": exp}),                                        // no sub
        json!({"sub": "alice", "exp": exp}),                        // sub not a UUID
        json!({"sub": user}),                                       // no exp
        json!({"sub": user, "exp": "tomorrow"}),                    // exp not a number
        json!({"sub": user, "exp": exp, "nbf": unix_now() + 3600}), // not yet valid
    ];
    for claims in cases {
        let token = sign_with(&claims, Algorithm::HS256, &test_key());
        assert_refused(&app, &token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_nbf_is_accepted() {
    let app = app().await;
    let claims = json!({"sub": Uuid::now_v7().to_string(), "exp": unix_now() + 3600, "nbf": unix_now() - 60});
    assert_accepted(&app, &sign_with(&claims, Algorithm::HS256, &test_key())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audience_is_ignored_when_none_is_configured() {
    let app = app().await;
    let claims =
        json!({"sub": Uuid::now_v7().to_string(), "exp": unix_now() + 3600, "aud": "someone-else"});
    assert_accepted(&app, &sign_with(&claims, Algorithm::HS256, &test_key())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_issuer_and_audience_must_be_present_and_match() {
    let app = app_with_auth(&[
        "--jwt-secret",
        TEST_SECRET,
        "--jwt-issuer",
        "https://id.example",
        "--jwt-audience",
        "notifications",
    ])
    .await;
    let base = || claims_for(Uuid::now_v7());
    let with = |extra: serde_json::Value| {
        let mut claims = base();
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign_with(&claims, Algorithm::HS256, &test_key())
    };
    assert_accepted(
        &app,
        &with(json!({"iss": "https://id.example", "aud": "notifications"})),
    )
    .await;
    assert_accepted(
        &app,
        &with(json!({"iss": "https://id.example", "aud": ["other", "notifications"]})),
    )
    .await;
    assert_refused(&app, &with(json!({"aud": "notifications"}))).await;
    assert_refused(&app, &with(json!({"iss": "https://id.example"}))).await;
    assert_refused(
        &app,
        &with(json!({"iss": "https://evil.example", "aud": "notifications"})),
    )
    .await;
    assert_refused(
        &app,
        &with(json!({"iss": "https://id.example", "aud": "other"})),
    )
    .await;
    // Without either, a token of the test secret alone is refused.
    assert_refused(&app, &app.user_token(Uuid::now_v7())).await;
}

async fn rsa_app() -> TestApp {
    app_with_auth(&["--jwt-public-key-file", &fixture_path("rsa_public.pem")]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rs256_token_signed_with_the_configured_key_is_accepted() {
    let app = rsa_app().await;
    let token = sign_with(
        &claims_for(Uuid::now_v7()),
        Algorithm::RS256,
        &rsa_key("rsa_private.pem"),
    );
    assert_accepted(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rs256_token_signed_with_another_rsa_key_is_refused() {
    let app = rsa_app().await;
    let token = sign_with(
        &claims_for(Uuid::now_v7()),
        Algorithm::RS256,
        &rsa_key("rsa_other_private.pem"),
    );
    assert_refused(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hs256_token_keyed_with_the_rsa_public_key_is_refused() {
    // The classic algorithm confusion: the attacker knows the public key and
    // uses it as an HMAC secret.
    let app = rsa_app().await;
    let public_pem = fixture("rsa_public.pem");
    let token = sign_with(
        &claims_for(Uuid::now_v7()),
        Algorithm::HS256,
        &hs256_key(public_pem.as_bytes()),
    );
    assert_refused(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rs256_token_is_refused_by_an_hs256_server() {
    let app = app().await;
    let token = sign_with(
        &claims_for(Uuid::now_v7()),
        Algorithm::RS256,
        &rsa_key("rsa_private.pem"),
    );
    assert_refused(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_es256_token_is_accepted_with_a_p256_key_and_rs256_is_not() {
    let app = app_with_auth(&["--jwt-public-key-file", &fixture_path("ec_public.pem")]).await;
    let claims = claims_for(Uuid::now_v7());
    assert_accepted(
        &app,
        &sign_with(&claims, Algorithm::ES256, &ec_key("ec_private.pem")),
    )
    .await;
    assert_refused(
        &app,
        &sign_with(&claims, Algorithm::RS256, &rsa_key("rsa_private.pem")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_the_query_string_is_not_accepted_on_rest_routes() {
    let app = app().await;
    let token = app.user_token(Uuid::now_v7());
    let reply = app
        .send(app.http(Method::GET, &format!("{PROTECTED}?token={token}")))
        .await;
    reply.assert_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_token_may_not_create_notifications() {
    let app = app().await;
    let user = Uuid::now_v7();
    let reply = app
        .create(
            &app.user_token(user),
            &json!({"user_id": user, "title": "t", "message": "m"}),
        )
        .await;
    reply.assert_error(403, "forbidden");
    assert_eq!(app.stored_for(user).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_token_may_create_for_any_user_and_still_reads_its_own_inbox() {
    let app = app().await;
    let token = app.publisher_token();
    let reply = app
        .create(
            &token,
            &json!({"user_id": Uuid::now_v7(), "title": "t", "message": "m"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let own = app.call(Method::GET, "/api/v1/notifications", &token).await;
    assert_eq!(own.status, 200);
    assert_eq!(
        own.json()["items"],
        json!([]),
        "the new one is someone else's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_checks_the_token_before_reading_the_body() {
    let app = app().await;
    let reply = app
        .send(
            app.http(Method::POST, "/api/v1/notifications")
                .body("{not json"),
        )
        .await;
    reply.assert_error(401, "unauthorized");
}
