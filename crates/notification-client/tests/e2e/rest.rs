//! REST calls round-trip, and error bodies become typed errors.

use notification_client::protocol::{ErrorCode, NotificationStatus};
use notification_client::{ClientError, ListParams};
use notification_e2e::tokens::{mint, TokenKind};
use notification_e2e::{on_both_backends, spawn_app, Backend};
use uuid::Uuid;

use crate::support::{client, create};

async fn every_call_round_trips(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let client = client(&app.base_url, &token);
    let [first, second] = create(&app, user, &["first", "second"]).await[..] else {
        unreachable!()
    };

    assert_eq!(client.unread_count().await.unwrap(), 2);
    let page = client
        .list(&ListParams::default().with_limit(1))
        .await
        .unwrap();
    assert_eq!(page.items[0].notification_id, second, "newest first");
    let next = client
        .list(
            &ListParams::default()
                .with_limit(1)
                .with_cursor(page.next_cursor.unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].notification_id, first);
    assert_eq!(next.next_cursor, None);

    let read = client.mark_read(first).await.unwrap();
    assert_eq!(read.status, NotificationStatus::Read);
    assert!(read.read_at.is_some());
    assert_eq!(client.unread_count().await.unwrap(), 1);

    let archived = client.archive(second).await.unwrap();
    assert_eq!(archived.status, NotificationStatus::Archived);
    let only_archived = client
        .list(&ListParams::default().with_status(NotificationStatus::Archived))
        .await
        .unwrap();
    assert_eq!(only_archived.items.len(), 1);
    assert_eq!(only_archived.items[0].notification_id, second);

    let back = client.mark_unread(second).await.unwrap();
    assert_eq!(back.status, NotificationStatus::Unread);
    assert_eq!(back.archived_at, None);
    assert_eq!(client.read_all().await.unwrap(), 1);
    assert_eq!(client.unread_count().await.unwrap(), 0);

    assert_eq!(client.get(first).await.unwrap().title, "first");
    client.delete(first).await.unwrap();
    assert_eq!(
        client.get(first).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    app.stop().await;
}

async fn error_bodies_become_typed_api_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let client = client(&app.base_url, &token);

    match client.mark_read(Uuid::now_v7()).await {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code), (404, ErrorCode::NotFound))
        }
        other => panic!("expected a 404 API error, got {other:?}"),
    }
    // Another user's notification is just as absent.
    let [foreign] = create(&app, Uuid::now_v7(), &["not yours"]).await[..] else {
        unreachable!()
    };
    assert_eq!(
        client.delete(foreign).await.unwrap_err().status(),
        Some(404)
    );

    match client.list(&ListParams::default().with_limit(0)).await {
        Err(ClientError::Api {
            status,
            code,
            field,
            ..
        }) => {
            assert_eq!((status, code), (422, ErrorCode::ValidationFailed));
            assert_eq!(field.as_deref(), Some("limit"));
        }
        other => panic!("expected a 422 API error, got {other:?}"),
    }

    let refused = crate::support::client(&app.base_url, &mint(TokenKind::WrongKey, user));
    assert_eq!(
        refused.unread_count().await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
    app.stop().await;
}

on_both_backends!(every_call_round_trips, error_bodies_become_typed_api_errors);
