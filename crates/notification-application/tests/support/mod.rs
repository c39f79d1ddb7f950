//! Helpers shared by the service's unit tests of creating (single and batch).

use std::sync::Arc;

use notification_application::NotificationService;
use notification_domain::{
    IdempotencyKey, MockEventPublisher, MockNotificationRepository, NotificationDraft, UserId,
};

pub fn user() -> UserId {
    UserId::from_uuid(uuid::Uuid::now_v7())
}

pub fn draft(user_id: UserId, title: &str) -> NotificationDraft {
    NotificationDraft::parse(user_id, title, "Uma nova transação foi criada", None, None).unwrap()
}

pub fn key() -> IdempotencyKey {
    IdempotencyKey::parse("order-42-created").unwrap()
}

pub fn service(
    repo: MockNotificationRepository,
    publisher: MockEventPublisher,
) -> NotificationService {
    NotificationService::new(Arc::new(repo), Arc::new(publisher))
}

/// A publisher that must not be called.
pub fn no_publish() -> MockEventPublisher {
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().never();
    publisher
}
