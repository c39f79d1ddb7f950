//! Unit tests of every use case, with mockall mocks of the ports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::sync::Arc;

use mockall::predicate::eq;
use notification_application::{NotificationService, PageRequest, ServiceError};
use notification_domain::{
    DomainEvent, InboxPosition, MockEventPublisher, MockNotificationRepository, Notification,
    NotificationChange, NotificationDraft, NotificationId, NotificationStatus, PublishError,
    ReadAllOutcome, RepositoryError, StatusChange, StatusChangeOutcome, StatusFilter, UserId,
};

fn user() -> UserId {
    UserId::from_uuid(uuid::Uuid::now_v7())
}

fn draft(user_id: UserId) -> NotificationDraft {
    NotificationDraft::parse(
        user_id,
        "Nova transação",
        "Uma nova transação foi criada",
        None,
        None,
    )
    .unwrap()
}

/// What a repository answers to `change` of `stored` at `at`.
fn applied(
    stored: &Notification,
    change: StatusChange,
    at: time::OffsetDateTime,
    unread_count: u64,
) -> StatusChangeOutcome {
    let mut notification = stored.clone();
    let changed = change.apply_to(&mut notification, at);
    StatusChangeOutcome {
        notification,
        changed,
        unread_count,
        seq: 7,
    }
}

/// A repository's answer to a change: its seq and the count after it.
fn position(seq: u64, unread_count: u64) -> InboxPosition {
    InboxPosition { seq, unread_count }
}

fn stored_unread(user_id: UserId) -> Notification {
    Notification::new(
        draft(user_id),
        NotificationId::new(),
        notification_domain::now(),
    )
}

fn service(repo: MockNotificationRepository, publisher: MockEventPublisher) -> NotificationService {
    NotificationService::new(Arc::new(repo), Arc::new(publisher))
}

fn unavailable() -> RepositoryError {
    RepositoryError::Unavailable("connection refused".into())
}

fn no_publish() -> MockEventPublisher {
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().never();
    publisher
}

#[tokio::test]
async fn create_stores_then_publishes_created_with_the_unread_count() {
    let user_id = user();
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert()
        .withf(move |n| n.user_id() == user_id && n.status() == NotificationStatus::Unread)
        .times(1)
        .returning(|_| Ok(position(12, 4)));
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(move |event| match event {
            DomainEvent::NotificationCreated(e) => {
                e.unread_count == 4
                    && e.seq == 12
                    && e.notification.user_id() == user_id
                    && e.occurred_at == e.notification.created_at()
            }
            DomainEvent::NotificationUpdated(_) => false,
        })
        .times(1)
        .returning(|_| Ok(()));

    let created = service(repo, publisher)
        .create(draft(user_id), None)
        .await
        .unwrap();
    assert!(!created.is_replay());
    let created = created.into_notification();
    assert_eq!(created.title(), "Nova transação");
}

#[tokio::test]
async fn create_publishes_nothing_when_the_store_fails() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert().returning(|_| Err(unavailable()));
    let result = service(repo, no_publish())
        .create(draft(user()), None)
        .await;
    assert!(matches!(result, Err(ServiceError::Unavailable(_))));
}

#[tokio::test]
async fn create_succeeds_when_publishing_fails_because_the_notification_is_stored() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_insert().returning(|_| Ok(position(1, 1)));
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .times(1)
        .returning(|_| Err(PublishError::Unavailable("redis down".into())));
    assert!(service(repo, publisher)
        .create(draft(user()), None)
        .await
        .is_ok());
}

#[tokio::test]
async fn get_of_a_missing_or_foreign_notification_is_not_found() {
    let (user_id, id) = (user(), NotificationId::new());
    let mut repo = MockNotificationRepository::new();
    repo.expect_get()
        .with(eq(user_id), eq(id))
        .returning(|_, _| Ok(None));
    let result = service(repo, no_publish()).get(user_id, id).await;
    assert!(matches!(result, Err(ServiceError::NotFound)));
}

#[tokio::test]
async fn a_corrupt_row_is_an_internal_error() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_get()
        .returning(|_, _| Err(RepositoryError::Corrupt("bad status".into())));
    let result = service(repo, no_publish())
        .get(user(), NotificationId::new())
        .await;
    assert!(matches!(result, Err(ServiceError::Internal(_))));
}

#[tokio::test]
async fn list_asks_for_one_extra_row_and_returns_a_cursor_when_more_follow() {
    let user_id = user();
    let rows: Vec<Notification> = (0..3).map(|_| stored_unread(user_id)).collect();
    let expected_cursor = rows[1].id();
    let mut repo = MockNotificationRepository::new();
    repo.expect_list()
        .withf(|_, q| q.limit == 3 && q.filter == StatusFilter::Inbox && q.before.is_none())
        .returning(move |_, _| Ok((rows.clone(), 5)));
    let page = service(repo, no_publish())
        .list(
            user_id,
            PageRequest {
                limit: 2,
                ..PageRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_cursor, Some(expected_cursor));
    assert_eq!(page.seq, 5);
}

#[tokio::test]
async fn list_has_no_cursor_on_the_last_page() {
    let user_id = user();
    let rows: Vec<Notification> = (0..2).map(|_| stored_unread(user_id)).collect();
    let mut repo = MockNotificationRepository::new();
    repo.expect_list()
        .returning(move |_, _| Ok((rows.clone(), 2)));
    let page = service(repo, no_publish())
        .list(
            user_id,
            PageRequest {
                limit: 2,
                ..PageRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_cursor, None);
}

#[tokio::test]
async fn unread_count_comes_from_the_repository() {
    let user_id = user();
    let mut repo = MockNotificationRepository::new();
    repo.expect_unread_count()
        .with(eq(user_id))
        .returning(|_| Ok(position(3, 9)));
    assert_eq!(
        service(repo, no_publish())
            .unread_count(user_id)
            .await
            .unwrap(),
        position(3, 9)
    );
}

#[tokio::test]
async fn mark_read_stores_the_change_then_publishes_a_read_update() {
    let user_id = user();
    let stored = stored_unread(user_id);
    let id = stored.id();
    let mut repo = MockNotificationRepository::new();
    repo.expect_change_status()
        .withf(move |user, nid, change, _| {
            *user == user_id && *nid == id && *change == StatusChange::Read
        })
        .times(1)
        .returning(move |_, _, change, at| Ok(Some(applied(&stored, change, at, 0))));
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(move |event| {
            matches!(event, DomainEvent::NotificationUpdated(e)
                if e.notification_id == Some(id)
                && matches!(e.change, NotificationChange::Read { .. })
                && e.unread_count == 0
                && e.seq == 7)
        })
        .times(1)
        .returning(|_| Ok(()));

    let read = service(repo, publisher)
        .mark_read(user_id, id)
        .await
        .unwrap();
    assert_eq!(read.status(), NotificationStatus::Read);
}

#[tokio::test]
async fn a_repeated_read_stores_and_publishes_nothing() {
    let user_id = user();
    let mut stored = stored_unread(user_id);
    stored.mark_read(notification_domain::now());
    let id = stored.id();
    let mut repo = MockNotificationRepository::new();
    repo.expect_change_status()
        .returning(move |_, _, change, at| Ok(Some(applied(&stored, change, at, 0))));
    let read = service(repo, no_publish())
        .mark_read(user_id, id)
        .await
        .unwrap();
    assert_eq!(read.status(), NotificationStatus::Read);
}

#[tokio::test]
async fn a_status_change_of_a_missing_notification_is_not_found() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_change_status().returning(|_, _, _, _| Ok(None));
    let result = service(repo, no_publish())
        .mark_read(user(), NotificationId::new())
        .await;
    assert!(matches!(result, Err(ServiceError::NotFound)));
}

#[tokio::test]
async fn mark_unread_and_archive_publish_their_own_update_types() {
    let user_id = user();
    let mut read = stored_unread(user_id);
    read.mark_read(notification_domain::now());
    let mut repo = MockNotificationRepository::new();
    let stored = read.clone();
    repo.expect_change_status()
        .returning(move |_, _, change, at| Ok(Some(applied(&stored, change, at, 1))));
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(|e| matches!(e, DomainEvent::NotificationUpdated(u) if u.change == NotificationChange::Unread))
        .times(1)
        .returning(|_| Ok(()));
    publisher
        .expect_publish()
        .withf(|e| matches!(e, DomainEvent::NotificationUpdated(u) if matches!(u.change, NotificationChange::Archived { .. })))
        .times(1)
        .returning(|_| Ok(()));
    let service = service(repo, publisher);
    assert_eq!(
        service
            .mark_unread(user_id, read.id())
            .await
            .unwrap()
            .status(),
        NotificationStatus::Unread
    );
    assert_eq!(
        service.archive(user_id, read.id()).await.unwrap().status(),
        NotificationStatus::Archived
    );
}

#[tokio::test]
async fn a_failed_status_write_publishes_nothing() {
    let user_id = user();
    let mut repo = MockNotificationRepository::new();
    repo.expect_change_status()
        .returning(|_, _, _, _| Err(unavailable()));
    let result = service(repo, no_publish())
        .mark_read(user_id, NotificationId::new())
        .await;
    assert!(matches!(result, Err(ServiceError::Unavailable(Some(_)))));
}

#[tokio::test]
async fn read_all_publishes_one_update_with_the_count() {
    let user_id = user();
    let mut repo = MockNotificationRepository::new();
    repo.expect_mark_all_read()
        .with(eq(user_id), mockall::predicate::always())
        .returning(|_, _| {
            Ok(ReadAllOutcome {
                updated: 5,
                unread_count: 0,
                seq: 8,
            })
        });
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(|e| {
            matches!(e, DomainEvent::NotificationUpdated(u)
                if u.notification_id.is_none()
                && u.seq == 8
                && matches!(u.change, NotificationChange::AllRead { updated: 5, read_at }
                    if read_at == u.occurred_at))
        })
        .times(1)
        .returning(|_| Ok(()));
    assert_eq!(service(repo, publisher).read_all(user_id).await.unwrap(), 5);
}

#[tokio::test]
async fn read_all_with_nothing_unread_publishes_nothing() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_mark_all_read().returning(|_, _| {
        Ok(ReadAllOutcome {
            updated: 0,
            unread_count: 0,
            seq: 4,
        })
    });
    assert_eq!(
        service(repo, no_publish()).read_all(user()).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn read_all_failure_publishes_nothing() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_mark_all_read()
        .returning(|_, _| Err(unavailable()));
    assert!(service(repo, no_publish()).read_all(user()).await.is_err());
}

#[tokio::test]
async fn delete_publishes_a_delete_update() {
    let (user_id, id) = (user(), NotificationId::new());
    let mut repo = MockNotificationRepository::new();
    repo.expect_delete()
        .with(eq(user_id), eq(id), mockall::predicate::always())
        .returning(|_, _, _| Ok(Some(position(6, 3))));
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(move |e| {
            matches!(e, DomainEvent::NotificationUpdated(u)
                if u.change == NotificationChange::Deleted
                && u.notification_id == Some(id)
                && u.unread_count == 3
                && u.seq == 6)
        })
        .times(1)
        .returning(|_| Ok(()));
    service(repo, publisher).delete(user_id, id).await.unwrap();
}

#[tokio::test]
async fn deleting_a_missing_notification_is_not_found_and_publishes_nothing() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_delete().returning(|_, _, _| Ok(None));
    let result = service(repo, no_publish())
        .delete(user(), NotificationId::new())
        .await;
    assert!(matches!(result, Err(ServiceError::NotFound)));
}

#[tokio::test]
async fn deleting_fails_without_publishing_when_storage_fails() {
    let mut repo = MockNotificationRepository::new();
    repo.expect_delete()
        .returning(|_, _, _| Err(RepositoryError::Other("disk full".into())));
    let result = service(repo, no_publish())
        .delete(user(), NotificationId::new())
        .await;
    assert!(matches!(result, Err(ServiceError::Internal(_))));
}

/// Retention: of three expired notifications, one was deleted meanwhile by
/// its user and one fails to delete; the one deleted is still published and
/// the failure is reported.
#[tokio::test]
async fn delete_expired_publishes_every_stored_delete_even_when_another_fails() {
    let (user_id, gone, kept, failing) = (
        user(),
        NotificationId::new(),
        NotificationId::new(),
        NotificationId::new(),
    );
    let cutoff = notification_domain::now();
    let mut repo = MockNotificationRepository::new();
    repo.expect_expired_notifications()
        .with(eq(cutoff), eq(3))
        .times(1)
        .returning(move |_, _| Ok(vec![(user_id, gone), (user_id, kept), (user_id, failing)]));
    repo.expect_delete().returning(move |_, id, _| match id {
        id if id == gone => Ok(Some(position(9, 0))),
        id if id == kept => Ok(None),
        _ => Err(unavailable()),
    });
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .withf(move |e| {
            matches!(e, DomainEvent::NotificationUpdated(u)
                if u.change == NotificationChange::Deleted
                && u.notification_id == Some(gone)
                && u.seq == 9)
        })
        .times(1)
        .returning(|_| Ok(()));

    let result = service(repo, publisher).delete_expired(cutoff, 3).await;

    assert!(
        matches!(result, Err(ServiceError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn delete_expired_counts_only_what_it_deleted() {
    let user_id = user();
    let mut repo = MockNotificationRepository::new();
    repo.expect_expired_notifications().returning(move |_, _| {
        Ok(vec![
            (user_id, NotificationId::new()),
            (user_id, NotificationId::new()),
        ])
    });
    let mut answers = vec![Ok(None), Ok(Some(position(4, 1)))];
    repo.expect_delete()
        .returning(move |_, _, _| answers.pop().unwrap());
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().times(1).returning(|_| Ok(()));

    let deleted = service(repo, publisher)
        .delete_expired(notification_domain::now(), 100)
        .await
        .unwrap();

    assert_eq!(deleted, 1, "one was already gone");
}
