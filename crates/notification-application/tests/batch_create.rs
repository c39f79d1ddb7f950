//! Unit tests of `NotificationService::create_batch`, with mockall mocks of
//! the ports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use std::sync::{Arc, Mutex};

use notification_application::{BatchOutcome, Idempotency, ServiceError};
use notification_domain::{
    BatchIdempotencyRecord, DomainEvent, IdempotentBatchInsert, InboxPosition, MockEventPublisher,
    MockNotificationRepository, Notification, NotificationId, RepositoryError, RequestFingerprint,
    IDEMPOTENCY_KEY_TTL,
};
use support::{draft, key, no_publish, service, user};

/// Positions `1..=n` of one user, unread counts alike.
fn positions(n: u64) -> Vec<InboxPosition> {
    (1..=n)
        .map(|seq| InboxPosition {
            seq,
            unread_count: seq,
        })
        .collect()
}

/// The `(title, seq)` of every created event published, in order.
type Published = Arc<Mutex<Vec<(String, u64)>>>;

/// A publisher that records what it publishes.
fn recording_publisher() -> (MockEventPublisher, Published) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().returning(move |event| {
        if let DomainEvent::NotificationCreated(created) = event {
            sink.lock()
                .unwrap()
                .push((created.notification.title().to_owned(), created.seq));
        }
        Ok(())
    });
    (publisher, seen)
}

#[tokio::test]
async fn a_batch_is_stored_in_one_call_then_each_item_is_published_in_order_with_its_seq() {
    let user_id = user();
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_batch()
        .withf(move |notifications| {
            notifications.len() == 3
                && notifications.iter().all(|n| n.user_id() == user_id)
                && notifications
                    .iter()
                    .all(|n| n.created_at() == notifications[0].created_at())
        })
        .times(1)
        .returning(|_| Ok(positions(3)));
    repo.expect_insert().never();
    let (publisher, seen) = recording_publisher();

    let outcome = service(repo, publisher)
        .create_batch(
            vec![
                draft(user_id, "a"),
                draft(user_id, "b"),
                draft(user_id, "c"),
            ],
            None,
        )
        .await
        .unwrap();

    let titles: Vec<&str> = outcome.notifications().iter().map(|n| n.title()).collect();
    assert_eq!(titles, ["a", "b", "c"]);
    assert!(!outcome.is_replay());
    assert_eq!(
        *seen.lock().unwrap(),
        [("a".into(), 1), ("b".into(), 2), ("c".into(), 3)]
    );
}

#[tokio::test]
async fn a_keyed_batch_claims_the_key_with_the_batch_fingerprint() {
    let (user_id, publisher_id) = (user(), user());
    let expected = RequestFingerprint::of_batch(&[draft(user_id, "a"), draft(user_id, "b")]);
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_batch_idempotent()
        .withf(move |notifications, claim, expired_before| {
            notifications.len() == 2
                && claim.publisher == publisher_id
                && claim.key == key()
                && claim.fingerprint == expected
                && *expired_before == notifications[0].created_at() - IDEMPOTENCY_KEY_TTL
        })
        .times(1)
        .returning(|_, _, _| {
            Ok(IdempotentBatchInsert::Inserted {
                positions: positions(2),
            })
        });
    repo.expect_insert_batch().never();
    let (publisher, seen) = recording_publisher();

    let outcome = service(repo, publisher)
        .create_batch(
            vec![draft(user_id, "a"), draft(user_id, "b")],
            Some(Idempotency::new(publisher_id, key())),
        )
        .await
        .unwrap();

    assert!(matches!(outcome, BatchOutcome::Created(ref n) if n.len() == 2));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

fn already_used_for(record: BatchIdempotencyRecord) -> MockNotificationRepository {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_batch_idempotent()
        .times(1)
        .returning(move |_, _, _| Ok(IdempotentBatchInsert::AlreadyUsed(record.clone())));
    repo.expect_insert_batch().never();
    repo
}

#[tokio::test]
async fn a_repeated_batch_answers_the_first_list_and_publishes_nothing() {
    let user_id = user();
    let drafts = vec![draft(user_id, "a"), draft(user_id, "b")];
    let at = notification_domain::now();
    let first: Vec<Notification> = drafts
        .iter()
        .map(|d| Notification::new(d.clone(), NotificationId::new(), at))
        .collect();
    let repo = already_used_for(BatchIdempotencyRecord {
        fingerprint: RequestFingerprint::of_batch(&drafts),
        notifications: first.clone(),
    });

    let outcome = service(repo, no_publish())
        .create_batch(drafts, Some(Idempotency::new(user(), key())))
        .await
        .unwrap();

    assert_eq!(outcome, BatchOutcome::Replayed(first));
}

#[tokio::test]
async fn the_key_of_another_batch_is_refused_and_publishes_nothing() {
    let user_id = user();
    let repo = already_used_for(BatchIdempotencyRecord {
        fingerprint: RequestFingerprint::of_batch(&[draft(user_id, "a")]),
        notifications: vec![Notification::new(
            draft(user_id, "a"),
            NotificationId::new(),
            notification_domain::now(),
        )],
    });

    let result = service(repo, no_publish())
        .create_batch(
            vec![draft(user_id, "a"), draft(user_id, "b")],
            Some(Idempotency::new(user(), key())),
        )
        .await;

    assert!(matches!(result, Err(ServiceError::IdempotencyKeyReused)));
}

#[tokio::test]
async fn storage_refusing_the_batch_is_unavailable_and_publishes_nothing() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_batch()
        .returning(|_| Err(RepositoryError::Unavailable("queue full".into())));

    let result = service(repo, no_publish())
        .create_batch(vec![draft(user(), "a")], None)
        .await;

    assert!(matches!(result, Err(ServiceError::Unavailable(_))));
}

#[tokio::test]
async fn an_empty_batch_stores_and_publishes_nothing() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert_batch().never();
    repo.expect_insert_batch_idempotent().never();

    let outcome = service(repo, no_publish())
        .create_batch(Vec::new(), Some(Idempotency::new(user(), key())))
        .await
        .unwrap();

    assert_eq!(outcome, BatchOutcome::Created(Vec::new()));
}
