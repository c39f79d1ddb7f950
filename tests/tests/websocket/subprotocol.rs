//! The token in `Sec-WebSocket-Protocol` (contract §8): how browsers
//! authenticate without putting the token in the URL.

use notification_e2e::tokens::{mint, TokenKind};
use notification_e2e::ws::Connect;
use notification_e2e::{spawn_app, Backend};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_subprotocol_authenticates_and_notifications_v1_is_selected() {
    let app = spawn_app(Backend::Sqlite).await;
    let (user, token) = app.new_user();
    let offers = format!("notifications.v1, bearer.{token}");
    let mut socket = app
        .ws_connect(Connect {
            subprotocols: Some(&offers),
            ..Connect::default()
        })
        .await
        .expect("the subprotocol token is accepted");
    assert_eq!(socket.protocol.as_deref(), Some("notifications.v1"));
    app.create_for(user, "hello").await;
    let pushed = socket.expect("notification").await;
    assert_eq!(pushed["data"]["title"], "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_bearer_subprotocol_is_refused_with_401() {
    let app = spawn_app(Backend::Sqlite).await;
    let bad = mint(TokenKind::WrongKey, Uuid::now_v7());
    for offers in [
        format!("notifications.v1, bearer.{bad}"),
        "notifications.v1, bearer.".to_owned(),
        "notifications.v1".to_owned(),
    ] {
        let refused = app
            .ws_connect(Connect {
                subprotocols: Some(&offers),
                ..Connect::default()
            })
            .await;
        assert_eq!(refused.err(), Some(401), "{offers}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_wins_over_the_subprotocol_which_wins_over_the_query() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let bad = mint(TokenKind::WrongKey, Uuid::now_v7());
    let good_offer = format!("notifications.v1, bearer.{token}");
    let bad_offer = format!("notifications.v1, bearer.{bad}");

    // Header (good) over subprotocol (bad).
    let header_wins = app
        .ws_connect(Connect {
            header_token: Some(&token),
            subprotocols: Some(&bad_offer),
            ..Connect::default()
        })
        .await;
    assert!(header_wins.is_ok(), "the header's token is used");
    // Header (bad) over subprotocol (good).
    let header_refused = app
        .ws_connect(Connect {
            header_token: Some(&bad),
            subprotocols: Some(&good_offer),
            ..Connect::default()
        })
        .await;
    assert_eq!(header_refused.err(), Some(401));
    // Subprotocol (good) over query (bad), and the reverse.
    let subprotocol_wins = app
        .ws_connect(Connect {
            subprotocols: Some(&good_offer),
            query_token: Some(&bad),
            ..Connect::default()
        })
        .await;
    assert!(subprotocol_wins.is_ok(), "the subprotocol's token is used");
    let subprotocol_refused = app
        .ws_connect(Connect {
            subprotocols: Some(&bad_offer),
            query_token: Some(&token),
            ..Connect::default()
        })
        .await;
    assert_eq!(subprotocol_refused.err(), Some(401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_v1_alone_is_selected_with_a_token_from_elsewhere() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, token) = app.new_user();
    let socket = app
        .ws_connect(Connect {
            query_token: Some(&token),
            subprotocols: Some("notifications.v1"),
            ..Connect::default()
        })
        .await
        .expect("the query token is accepted");
    assert_eq!(socket.protocol.as_deref(), Some("notifications.v1"));
    let plain = app.ws(&token).await;
    assert_eq!(plain.protocol, None, "nothing offered, nothing selected");
}
