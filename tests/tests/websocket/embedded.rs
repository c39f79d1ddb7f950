//! Another bounded context in the same binary creates notifications through
//! the very `NotificationService` the REST handlers use
//! (`Application::notification_service`), and open sockets hear of them.

use notification_domain::{NotificationDraft, NotificationType, UserId};
use notification_e2e::{on_both_backends, spawn_app, Backend};

async fn a_notification_created_by_another_context_reaches_an_open_socket(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let draft = NotificationDraft::parse(
        UserId::from_uuid(user),
        "Payment received",
        "We received your payment of 123.45",
        Some(NotificationType::Success),
        Some(serde_json::json!({ "amount_cents": 12_345 })),
    )
    .expect("a valid draft");

    let created = app
        .service
        .create(draft, None)
        .await
        .expect("the service stores it")
        .into_notification();

    let pushed = socket.expect("notification").await;
    assert_eq!(
        pushed["data"]["notification_id"],
        created.id().to_string(),
        "{pushed}"
    );
    assert_eq!(pushed["data"]["title"], "Payment received");
    assert_eq!(pushed["unread_count"], 1);
}

on_both_backends!(a_notification_created_by_another_context_reaches_an_open_socket);
