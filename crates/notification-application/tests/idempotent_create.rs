//! Unit tests of `NotificationService::create` with an `Idempotency`, with mockall mocks
//! of the ports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use notification_application::{CreateOutcome, Idempotency, ServiceError};
use notification_domain::{
    DomainEvent, IdempotencyRecord, IdempotentInsert, InboxPosition, MockEventPublisher,
    MockNotificationRepository, Notification, NotificationId, PublishError, RepositoryError,
    RequestFingerprint, IDEMPOTENCY_KEY_TTL,
};
use support::{draft, key, no_publish, service, user};

/// A repository whose `insert_idempotent` finds the key already used for
/// `record`, and which must store nothing else.
fn key_already_used_for(record: IdempotencyRecord) -> MockNotificationRepository {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_idempotent()
        .times(1)
        .returning(move |_, _, _| Ok(IdempotentInsert::AlreadyUsed(record.clone())));
    repo.expect_insert().never();
    repo
}

#[tokio::test]
async fn a_new_key_stores_the_notification_with_its_claim_then_publishes_created() {
    let (user_id, publisher_id) = (user(), user());
    let expected_fingerprint = RequestFingerprint::of(&draft(user_id, "Paid"));
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_idempotent()
        .withf(move |notification, claim, expired_before| {
            notification.user_id() == user_id
                && claim.publisher == publisher_id
                && claim.key == key()
                && claim.fingerprint == expected_fingerprint
                && *expired_before == notification.created_at() - IDEMPOTENCY_KEY_TTL
        })
        .times(1)
        .returning(|_, _, _| {
            Ok(IdempotentInsert::Inserted {
                position: InboxPosition {
                    seq: 1,
                    unread_count: 3,
                },
            })
        });
    repo.expect_insert().never();
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(move |event| {
            matches!(event, DomainEvent::NotificationCreated(e)
                if e.unread_count == 3 && e.notification.user_id() == user_id)
        })
        .times(1)
        .returning(|_| Ok(()));

    let outcome = service(repo, publisher)
        .create(
            draft(user_id, "Paid"),
            Some(Idempotency::new(publisher_id, key())),
        )
        .await
        .unwrap();

    assert!(matches!(&outcome, CreateOutcome::Created(n) if n.title() == "Paid"));
    assert!(!outcome.is_replay());
}

#[tokio::test]
async fn a_repeat_returns_the_first_notification_and_publishes_nothing() {
    let user_id = user();
    let first = Notification::new(
        draft(user_id, "Paid"),
        NotificationId::new(),
        notification_domain::now(),
    );
    let repo = key_already_used_for(IdempotencyRecord {
        fingerprint: RequestFingerprint::of(&draft(user_id, "Paid")),
        notification: first.clone(),
    });

    let outcome = service(repo, no_publish())
        .create(
            draft(user_id, "  Paid  "),
            Some(Idempotency::new(user(), key())),
        )
        .await
        .unwrap();

    assert!(outcome.is_replay());
    assert_eq!(outcome.into_notification(), first);
}

#[tokio::test]
async fn the_same_key_with_a_different_request_is_refused_and_publishes_nothing() {
    let user_id = user();
    let first = Notification::new(
        draft(user_id, "Paid"),
        NotificationId::new(),
        notification_domain::now(),
    );
    let repo = key_already_used_for(IdempotencyRecord {
        fingerprint: RequestFingerprint::of(&draft(user_id, "Paid")),
        notification: first,
    });

    let result = service(repo, no_publish())
        .create(
            draft(user_id, "Refunded"),
            Some(Idempotency::new(user(), key())),
        )
        .await;

    assert!(matches!(result, Err(ServiceError::IdempotencyKeyReused)));
}

#[tokio::test]
async fn storage_down_is_unavailable_and_publishes_nothing() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_idempotent()
        .returning(|_, _, _| Err(RepositoryError::Unavailable("connection refused".into())));

    let result = service(repo, no_publish())
        .create(draft(user(), "Paid"), Some(Idempotency::new(user(), key())))
        .await;

    assert!(matches!(result, Err(ServiceError::Unavailable(_))));
}

#[tokio::test]
async fn a_failed_publish_still_creates_because_the_notification_is_stored() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_idempotent().returning(|_, _, _| {
        Ok(IdempotentInsert::Inserted {
            position: InboxPosition {
                seq: 1,
                unread_count: 1,
            },
        })
    });
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .times(1)
        .returning(|_| Err(PublishError::Unavailable("redis down".into())));

    let outcome = service(repo, publisher)
        .create(draft(user(), "Paid"), Some(Idempotency::new(user(), key())))
        .await;

    assert!(matches!(outcome, Ok(CreateOutcome::Created(_))));
}
