//! Authentication and admission happen before the upgrade.

use notification_e2e::tokens::{mint, TokenKind};
use notification_e2e::ws::Connect;
use notification_e2e::{spawn_app, spawn_app_with, Backend};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_opens_with_the_query_token_and_with_the_header() {
    let app = spawn_app(Backend::Sqlite).await;
    let (user, token) = app.new_user();
    let mut by_query = app.ws(&token).await;
    let mut by_header = app
        .ws_connect(Connect {
            header_token: Some(&token),
            ..Connect::default()
        })
        .await
        .expect("header token accepted");
    app.create_for(user, "hello").await;
    by_query.expect("notification").await;
    by_header.expect("notification").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_wins_over_the_query_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let bad = mint(TokenKind::WrongKey, Uuid::now_v7());
    let refused = app
        .ws_connect(Connect {
            header_token: Some(&bad),
            query_token: Some(&token),
            ..Connect::default()
        })
        .await;
    assert_eq!(refused.err(), Some(401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_is_refused_with_401_before_the_upgrade() {
    let app = spawn_app(Backend::Sqlite).await;
    let sub = Uuid::now_v7();
    let no_token = app.ws_connect(Connect::default()).await;
    assert_eq!(no_token.err(), Some(401), "no token");
    for kind in [
        TokenKind::WrongKey,
        TokenKind::Expired,
        TokenKind::AlgNone,
        TokenKind::NonUuidSub,
    ] {
        let token = mint(kind, sub);
        let refused = app
            .ws_connect(Connect {
                query_token: Some(&token),
                ..Connect::default()
            })
            .await;
        assert_eq!(refused.err(), Some(401), "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_no_upgrade_is_refused_with_400_before_its_token_is_checked() {
    let app = spawn_app(Backend::Sqlite).await;
    let plain_get = app
        .request(reqwest::Method::GET, "/ws/notifications?token=forged", None)
        .await;
    assert_eq!(plain_get.status().as_u16(), 400);
    let body: serde_json::Value = plain_get.json().await.expect("the error body");
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_refused_with_403() {
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(
        &database,
        &[
            "--allowed-origins",
            "https://app.example,https://admin.example",
        ],
    )
    .await;
    let (_, token) = app.new_user();
    let foreign = app
        .ws_connect(Connect {
            query_token: Some(&token),
            origin: Some("https://evil.example"),
            ..Connect::default()
        })
        .await;
    assert_eq!(foreign.err(), Some(403));
    let allowed = app
        .ws_connect(Connect {
            query_token: Some(&token),
            origin: Some("https://admin.example"),
            ..Connect::default()
        })
        .await;
    assert!(allowed.is_ok(), "an allowed origin connects");
    // The inbox page the server serves is of its own origin.
    let own = app
        .ws_connect(Connect {
            query_token: Some(&token),
            origin: Some(&app.base_url),
            ..Connect::default()
        })
        .await;
    assert!(own.is_ok(), "the server's own origin connects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_the_per_user_limit_is_refused_with_429() {
    let database = Backend::Sqlite.database_url().await;
    let app = spawn_app_with(&database, &["--ws-max-connections-per-user", "2"]).await;
    let (_, token) = app.new_user();
    let first = app.ws(&token).await;
    let _second = app.ws(&token).await;
    let third = app
        .ws_connect(Connect {
            query_token: Some(&token),
            ..Connect::default()
        })
        .await;
    assert_eq!(third.err(), Some(429));
    // The limit is checked before `since` is looked up: even a `since` no
    // storage could answer is refused by the limit first.
    let resume = app
        .ws_connect(Connect {
            query_token: Some(&token),
            query: Some(&format!("since={}", Uuid::now_v7())),
            ..Connect::default()
        })
        .await;
    assert_eq!(resume.err(), Some(429));

    // Another user is not affected by this user's limit.
    let (_, other) = app.new_user();
    assert!(app
        .ws_connect(Connect {
            query_token: Some(&other),
            ..Connect::default()
        })
        .await
        .is_ok());

    // A closed connection frees its slot at once.
    first.close().await;
    let mut attempts = 0;
    loop {
        match app
            .ws_connect(Connect {
                query_token: Some(&token),
                ..Connect::default()
            })
            .await
        {
            Ok(_) => break,
            Err(429) if attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(status) => panic!("slot not freed: {status}"),
        }
    }
}
