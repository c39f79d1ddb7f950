//! Refused and expiring tokens: wait for a new one instead of hammering,
//! take one from a provider, refresh in-band before expiry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use notification_client::{Event, NotificationClient, TokenProvider};
use notification_e2e::tokens::{mint, sign, TokenKind, TEST_SECRET};
use notification_e2e::{on_both_backends, spawn_app, Backend};
use serde_json::json;
use uuid::Uuid;

use crate::support::{client, config, connected, create, next_event, notifications_until};

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn a_refused_upgrade_waits_for_a_new_token_then_resumes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let [anchor] = create(&app, user, &["anchor"]).await[..] else {
        unreachable!()
    };
    let refused = mint(TokenKind::WrongKey, user);
    // `subscribe_after` goes straight to the upgrade (no REST read first).
    let mut subscription = client(&app.base_url, &refused).subscribe_after(anchor);
    assert_eq!(next_event(&mut subscription).await, Event::TokenRequired);

    // Created while the client waits: still delivered once it resumes.
    let waiting = create(&app, user, &["while waiting"]).await;
    subscription.set_token(token.clone());
    // The very next event is the connection: no retries happened meanwhile
    // (each would have yielded another event).
    match next_event(&mut subscription).await {
        Event::Connected => {}
        other => panic!("expected Connected right after the new token, got {other:?}"),
    }
    let live = create(&app, user, &["live"]).await;
    assert_eq!(
        notifications_until(&mut subscription, live[0]).await,
        [waiting[0], live[0]]
    );
    assert_eq!(
        subscription.client().token(),
        token,
        "REST calls use it too"
    );
    app.stop().await;
}

async fn a_provider_replaces_a_refused_token_without_bothering_the_application(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let provider = TokenProvider::new(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        let token = token.clone();
        async move { Some(token) }
    });
    let config =
        config(&app.base_url, &mint(TokenKind::WrongKey, user)).with_token_provider(provider);
    let mut subscription = NotificationClient::new(config).unwrap().subscribe();
    connected(&mut subscription).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let live = create(&app, user, &["live"]).await;
    assert_eq!(notifications_until(&mut subscription, live[0]).await, live);
    app.stop().await;
}

async fn a_provider_that_only_has_bad_tokens_leads_to_token_required(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::now_v7();
    let provider = TokenProvider::new(move || async move { Some(mint(TokenKind::WrongKey, user)) });
    let config =
        config(&app.base_url, &mint(TokenKind::WrongKey, user)).with_token_provider(provider);
    let mut subscription = NotificationClient::new(config).unwrap().subscribe();
    assert_eq!(next_event(&mut subscription).await, Event::TokenRequired);
    app.stop().await;
}

async fn a_token_about_to_expire_is_refreshed_in_band_and_the_socket_lives_on(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::now_v7();
    let expires_at = unix_now() + 3;
    let short = sign(&json!({"sub": user, "exp": expires_at}), TEST_SECRET);
    let provider = TokenProvider::new(move || async move { Some(mint(TokenKind::User, user)) });
    let config = config(&app.base_url, &short).with_token_provider(provider);
    let mut subscription = NotificationClient::new(config).unwrap().subscribe();
    connected(&mut subscription).await;
    match next_event(&mut subscription).await {
        Event::TokenRefreshed {
            expires_at: renewed,
        } => assert!(renewed > expires_at + 3000),
        other => panic!("expected an in-band refresh, got {other:?}"),
    }
    // Past the first token's expiry the same socket still delivers: no
    // close (1008), no reconnect.
    let wait = (expires_at + 1 - unix_now()).max(0) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let live = create(&app, user, &["after the old expiry"]).await;
    match next_event(&mut subscription).await {
        Event::Notification { notification, .. } => {
            assert_eq!(notification.notification_id, live[0])
        }
        other => panic!("expected the notification on the same socket, got {other:?}"),
    }
    app.stop().await;
}

async fn an_expired_socket_without_a_provider_asks_the_application(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::now_v7();
    let short = sign(&json!({"sub": user, "exp": unix_now() + 3}), TEST_SECRET);
    let mut subscription = client(&app.base_url, &short).subscribe();
    connected(&mut subscription).await;
    // The server closes at `exp` with 1008; the client does not retry with
    // the dead token.
    assert_eq!(next_event(&mut subscription).await, Event::TokenRequired);
    subscription.set_token(mint(TokenKind::User, user));
    connected(&mut subscription).await;
    app.stop().await;
}

on_both_backends!(
    a_refused_upgrade_waits_for_a_new_token_then_resumes,
    a_provider_replaces_a_refused_token_without_bothering_the_application,
    a_provider_that_only_has_bad_tokens_leads_to_token_required,
    a_token_about_to_expire_is_refreshed_in_band_and_the_socket_lives_on,
    an_expired_socket_without_a_provider_asks_the_application,
);
