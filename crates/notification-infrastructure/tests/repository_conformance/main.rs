//! The `NotificationRepository` contract, checked against both databases.
//!
//! Each check below is written once, as an async fn taking a [`Store`], and
//! `conformance_tests!` turns it into one test per database (`sqlite::name` and
//! `postgres::name`). Every SQLite test gets its own file; the PostgreSQL tests
//! of one run share one fresh database, kept apart by random user ids, so they
//! can run in parallel. PostgreSQL being down fails the `postgres::` tests.
//! The change sequence and its log have their own file (`sync.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use notification_domain::{
    now, IdempotencyClaim, IdempotencyKey, IdempotentInsert, InboxPosition, ListQuery,
    Notification, NotificationDraft, NotificationId, NotificationRepository, NotificationStatus,
    NotificationType, RepositoryError, RequestFingerprint, StatusChange, StatusFilter,
    StoredNotification, UserId, IDEMPOTENCY_KEY_TTL,
};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::storage::{
    connect, connect_with_limits, migrate, DatabaseUrl, Storage, WriteLimits,
};
use notification_infrastructure::testing::{fresh_postgres_database, fresh_sqlite_url};
use serde_json::json;
use sqlx::Connection;
use time::{Duration, OffsetDateTime};
use tokio::sync::OnceCell;
use uuid::Uuid;

use NotificationStatus::{Archived, Read, Unread};

/// One database, opened for one test.
struct Store {
    url: DatabaseUrl,
    storage: Storage,
    repository: Arc<dyn NotificationRepository>,
}

async fn open(url: &str) -> Store {
    let url = DatabaseUrl::parse(url).unwrap();
    let storage = connect(&url, &BackgroundTasks::new()).await.unwrap();
    let repository = storage.repository();
    Store {
        url,
        storage,
        repository,
    }
}

async fn sqlite_store() -> Store {
    open(&fresh_sqlite_url()).await
}

async fn postgres_store() -> Store {
    // Only the URL is shared: each test runs on its own Tokio runtime, and a
    // pool must not outlive the runtime that opened it.
    static DATABASE: OnceCell<String> = OnceCell::const_new();
    let url = DATABASE
        .get_or_init(|| async {
            let url = fresh_postgres_database().await;
            migrate(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
            url
        })
        .await;
    open(url).await
}

macro_rules! conformance_tests {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(super::sqlite_store().await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(super::postgres_store().await).await;
                }
            )+
        }
    };
}

// The change sequence and the change log (contract §7), same harness.
mod sync;
// Batch creates (contract §9), same harness.
mod batch;
// Read-all as a read watermark, and its materializer, same harness.
mod read_all;

conformance_tests!(
    an_inserted_notification_reads_back_equal_after_every_change,
    another_users_notification_is_not_found_nor_changed,
    a_listing_is_newest_first,
    keyset_pages_visit_every_notification_exactly_once,
    the_inbox_excludes_archived_notifications,
    a_status_filter_returns_only_that_status,
    the_unread_count_follows_every_change,
    a_repeated_status_change_writes_nothing,
    concurrent_changes_of_one_notification_have_one_winner,
    concurrent_writes_of_every_kind_keep_every_count_exact,
    the_same_idempotency_key_at_once_stores_one_notification,
    a_failing_write_fails_alone,
    creates_in_one_batch_each_get_their_own_count,
    mark_all_read_reports_how_many_it_changed,
    a_deleted_notification_is_gone_and_deleting_again_finds_nothing,
    concurrent_mark_all_read_and_inserts_keep_the_count_exact,
    concurrent_inserts_each_get_the_count_right_after_them,
    a_failing_insert_among_concurrent_ones_fails_alone,
    migrating_twice_is_harmless,
    the_database_answers_a_ping,
    a_free_idempotency_key_stores_the_notification_and_counts_it,
    a_used_key_answers_its_record_and_stores_nothing,
    a_used_key_answers_its_record_whatever_the_new_fingerprint,
    the_same_key_of_another_publisher_is_independent,
    the_record_is_the_notification_as_first_created_even_after_it_changed_or_went,
    concurrent_inserts_with_one_key_store_exactly_one_notification,
    an_expired_key_is_as_good_as_new,
    purging_forgets_only_keys_older_than_the_cutoff_in_bounded_chunks,
    closed_storage_answers_unavailable_and_stores_nothing,
);

// ---- helpers --------------------------------------------------------------

fn new_user() -> UserId {
    UserId::from_uuid(Uuid::new_v4())
}

fn notification_for(user: UserId, title: &str) -> Notification {
    let draft = NotificationDraft::parse(user, title, "body", None, None).unwrap();
    Notification::new(draft, NotificationId::new(), now())
}

/// Inserts `count` notifications one after the other, oldest first.
async fn insert_many(store: &Store, user: UserId, count: usize) -> Vec<Notification> {
    let mut inserted = Vec::with_capacity(count);
    for i in 0..count {
        let notification = notification_for(user, &format!("n{i}"));
        store.repository.insert(&notification).await.unwrap();
        inserted.push(notification);
    }
    inserted
}

/// Applies a status change through the repository; returns the stored
/// notification and the unread count afterwards.
async fn change(
    store: &Store,
    notification: &Notification,
    change: StatusChange,
) -> (Notification, u64) {
    let at = now();
    let mut expected = notification.clone();
    assert!(
        change.apply_to(&mut expected, at),
        "the change must be a transition"
    );
    let outcome = store
        .repository
        .change_status(notification.user_id(), notification.id(), change, at)
        .await
        .unwrap()
        .expect("the notification exists");
    assert!(outcome.changed);
    assert_eq!(outcome.notification, expected);
    (outcome.notification, outcome.unread_count)
}

async fn read(store: &Store, n: &Notification) -> (Notification, u64) {
    change(store, n, StatusChange::Read).await
}

async fn unread(store: &Store, n: &Notification) -> (Notification, u64) {
    change(store, n, StatusChange::Unread).await
}

async fn archive(store: &Store, n: &Notification) -> (Notification, u64) {
    change(store, n, StatusChange::Archive).await
}

async fn list(
    store: &Store,
    user: UserId,
    filter: StatusFilter,
    before: Option<NotificationId>,
    limit: u32,
) -> Vec<Notification> {
    let query = ListQuery {
        filter,
        before,
        limit,
    };
    store.repository.list(user, query).await.unwrap().0
}

fn ids<'a>(notifications: impl IntoIterator<Item = &'a Notification>) -> Vec<NotificationId> {
    notifications.into_iter().map(Notification::id).collect()
}

fn newest_first<'a>(
    notifications: impl DoubleEndedIterator<Item = &'a Notification>,
) -> Vec<NotificationId> {
    ids(notifications.rev())
}

// ---- the checks -----------------------------------------------------------

async fn an_inserted_notification_reads_back_equal_after_every_change(store: Store) {
    let user = new_user();
    let metadata = json!({
        "order": {"id": 42, "total": 1234.5, "items": ["a", "b"], "paid": true},
        "note": null,
        "big": u64::MAX,
        "negative": -7,
        "text": "ação ✓ \"quoted\" \\ back",
    });
    let draft = NotificationDraft::parse(
        user,
        "  Nova transação 🎉  ",
        "Line one\nLine two  ",
        Some(NotificationType::Warning),
        Some(metadata),
    )
    .unwrap();
    let inserted = Notification::new(draft, NotificationId::new(), now());

    assert_eq!(
        store
            .repository
            .insert(&inserted)
            .await
            .unwrap()
            .unread_count,
        1
    );
    let got = store.repository.get(user, inserted.id()).await.unwrap();
    assert_eq!(got.as_ref(), Some(&inserted));

    let (was_read, _) = read(&store, &inserted).await;
    let got = store.repository.get(user, inserted.id()).await.unwrap();
    assert_eq!(got.as_ref(), Some(&was_read), "read_at round-trips");

    let (archived, _) = archive(&store, &was_read).await;
    let got = store.repository.get(user, inserted.id()).await.unwrap();
    assert_eq!(got.as_ref(), Some(&archived), "archived_at round-trips");
}

async fn another_users_notification_is_not_found_nor_changed(store: Store) {
    let (owner, stranger) = (new_user(), new_user());
    let [notification] = insert_many(&store, owner, 1).await.try_into().unwrap();
    let repository = &store.repository;

    assert_eq!(
        repository.get(stranger, notification.id()).await.unwrap(),
        None
    );
    let mut forged = Notification::restore(StoredNotification {
        id: notification.id(),
        user_id: stranger,
        title: "t".into(),
        message: "m".into(),
        notification_type: "INFO".into(),
        status: "UNREAD".into(),
        metadata: json!({}),
        created_at: notification.created_at(),
        read_at: None,
        archived_at: None,
    })
    .unwrap();
    forged.mark_read(now());
    assert_eq!(
        repository
            .change_status(stranger, notification.id(), StatusChange::Read, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repository
            .delete(stranger, notification.id(), now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repository
            .mark_all_read(stranger, now())
            .await
            .unwrap()
            .updated,
        0
    );
    assert!(list(&store, stranger, StatusFilter::Inbox, None, 10)
        .await
        .is_empty());

    assert_eq!(
        repository.get(owner, notification.id()).await.unwrap(),
        Some(notification)
    );
    assert_eq!(
        repository.unread_count(owner).await.unwrap().unread_count,
        1
    );
    assert_eq!(
        repository
            .unread_count(stranger)
            .await
            .unwrap()
            .unread_count,
        0
    );
}

async fn a_listing_is_newest_first(store: Store) {
    let user = new_user();
    let inserted = insert_many(&store, user, 5).await;

    let listed = list(&store, user, StatusFilter::Inbox, None, 10).await;

    assert_eq!(ids(&listed), newest_first(inserted.iter()));
    assert_eq!(listed[0], inserted[4], "whole notifications, not just ids");
}

async fn keyset_pages_visit_every_notification_exactly_once(store: Store) {
    let user = new_user();
    let inserted = insert_many(&store, user, 7).await;
    let mut visited = Vec::new();
    let mut page_sizes = Vec::new();
    let mut before = None;

    loop {
        let page = list(&store, user, StatusFilter::Inbox, before, 3).await;
        page_sizes.push(page.len());
        visited.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 3 => before = Some(last.id()),
            _ => break,
        }
    }

    assert_eq!(page_sizes, [3, 3, 1]);
    assert_eq!(visited, newest_first(inserted.iter()));
}

async fn the_inbox_excludes_archived_notifications(store: Store) {
    let user = new_user();
    let [kept_unread, to_read, to_archive] = insert_many(&store, user, 3).await.try_into().unwrap();
    let (was_read, _) = read(&store, &to_read).await;
    let (archived, _) = archive(&store, &to_archive).await;

    let inbox = list(&store, user, StatusFilter::Inbox, None, 10).await;

    assert_eq!(inbox, [was_read, kept_unread]);
    let archive_listing = list(&store, user, StatusFilter::Only(Archived), None, 10).await;
    assert_eq!(archive_listing, [archived]);
}

async fn a_status_filter_returns_only_that_status(store: Store) {
    let user = new_user();
    let inserted = insert_many(&store, user, 5).await;
    let (read_1, _) = read(&store, &inserted[1]).await;
    let (read_3, _) = read(&store, &inserted[3]).await;
    archive(&store, &inserted[4]).await;

    let unread_ids = ids(&list(&store, user, StatusFilter::Only(Unread), None, 10).await);
    assert_eq!(unread_ids, [inserted[2].id(), inserted[0].id()]);
    let read_listing = list(&store, user, StatusFilter::Only(Read), None, 10).await;
    assert_eq!(read_listing, [read_3, read_1.clone()]);
    let read_before = list(
        &store,
        user,
        StatusFilter::Only(Read),
        Some(inserted[3].id()),
        10,
    )
    .await;
    assert_eq!(read_before, [read_1], "a cursor and a filter together");
}

async fn the_unread_count_follows_every_change(store: Store) {
    let user = new_user();
    let repository = &store.repository;
    assert_eq!(
        repository.unread_count(user).await.unwrap().unread_count,
        0,
        "no counter yet"
    );

    let mut counts = Vec::new();
    for title in ["a", "b", "c"] {
        counts.push(
            repository
                .insert(&notification_for(user, title))
                .await
                .unwrap()
                .unread_count,
        );
    }
    assert_eq!(counts, [1, 2, 3]);
    let all = list(&store, user, StatusFilter::Inbox, None, 10).await;
    let (c, b, a) = (&all[0], &all[1], &all[2]);

    let (a, count) = read(&store, a).await;
    assert_eq!(count, 2, "UNREAD → READ");
    assert_eq!(repository.unread_count(user).await.unwrap().unread_count, 2);
    let (a, count) = unread(&store, &a).await;
    assert_eq!(count, 3, "READ → UNREAD");
    let (a, _) = read(&store, &a).await;
    let (a, count) = archive(&store, &a).await;
    assert_eq!(count, 2, "READ → ARCHIVED leaves the count alone");
    let (b, count) = archive(&store, b).await;
    assert_eq!(count, 1, "UNREAD → ARCHIVED");
    let (_, count) = unread(&store, &b).await;
    assert_eq!(count, 2, "ARCHIVED → UNREAD");

    assert_eq!(
        unread_after(repository.delete(user, c.id(), now()).await.unwrap()),
        Some(1),
        "deleting an unread one"
    );
    assert_eq!(
        unread_after(repository.delete(user, a.id(), now()).await.unwrap()),
        Some(1),
        "deleting an archived one"
    );
    assert_eq!(
        repository
            .insert(&notification_for(user, "d"))
            .await
            .unwrap()
            .unread_count,
        2
    );

    let outcome = repository.mark_all_read(user, now()).await.unwrap();
    assert_eq!((outcome.updated, outcome.unread_count), (2, 0));
    assert_eq!(repository.unread_count(user).await.unwrap().unread_count, 0);
}

async fn a_repeated_status_change_writes_nothing(store: Store) {
    let user = new_user();
    let [original] = insert_many(&store, user, 1).await.try_into().unwrap();
    let (was_read, _) = read(&store, &original).await;

    let again = store
        .repository
        .change_status(user, original.id(), StatusChange::Read, now())
        .await
        .unwrap()
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.notification, was_read, "the first read time stays");
    assert_eq!(again.unread_count, 0);

    store
        .repository
        .delete(user, original.id(), now())
        .await
        .unwrap();
    assert_eq!(
        store
            .repository
            .change_status(user, original.id(), StatusChange::Archive, now())
            .await
            .unwrap(),
        None,
        "a deleted notification cannot be changed"
    );
}

async fn concurrent_changes_of_one_notification_have_one_winner(store: Store) {
    let user = new_user();
    let [original] = insert_many(&store, user, 1).await.try_into().unwrap();

    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let repository = store.repository.clone();
            let id = original.id();
            tokio::spawn(async move {
                repository
                    .change_status(user, id, StatusChange::Read, now())
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        let outcome = attempt.await.unwrap();
        assert_eq!(outcome.unread_count, 0);
        if outcome.changed {
            winners.push(outcome.unread_count);
        }
    }

    assert_eq!(
        winners,
        [0],
        "exactly one change wins, and it sees 0 unread"
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        0
    );
}

/// Every kind of write of several users at once, many in the same batches:
/// each user's counter ends equal to the UNREAD notifications stored, and
/// each answer is a count that user really had.
async fn concurrent_writes_of_every_kind_keep_every_count_exact(store: Store) {
    let users = [new_user(), new_user(), new_user()];
    let mut existing = Vec::new();
    for user in users {
        existing.extend(insert_many(&store, user, 4).await);
    }
    let mut tasks = Vec::new();
    for (i, notification) in existing.iter().enumerate() {
        let repository = store.repository.clone();
        let notification = notification.clone();
        tasks.push(tokio::spawn(async move {
            let (user, id) = (notification.user_id(), notification.id());
            match i % 4 {
                0 => drop(
                    repository
                        .change_status(user, id, StatusChange::Read, now())
                        .await
                        .unwrap(),
                ),
                1 => drop(repository.delete(user, id, now()).await.unwrap()),
                2 => drop(
                    repository
                        .change_status(user, id, StatusChange::Archive, now())
                        .await
                        .unwrap(),
                ),
                _ => drop(
                    repository
                        .insert(&notification_for(user, "more"))
                        .await
                        .unwrap(),
                ),
            }
        }));
    }
    let repository = store.repository.clone();
    let reader = users[0];
    tasks.push(tokio::spawn(async move {
        repository.mark_all_read(reader, now()).await.unwrap();
    }));
    for task in tasks {
        task.await.unwrap();
    }
    for user in users {
        let unread = list(&store, user, StatusFilter::Only(Unread), None, 100).await;
        assert_eq!(
            store
                .repository
                .unread_count(user)
                .await
                .unwrap()
                .unread_count,
            unread.len() as u64,
            "user {user}"
        );
    }
}

/// Creates of one user in flight together (mostly in shared batches): each
/// is answered with the count right after it, as if written one by one.
async fn creates_in_one_batch_each_get_their_own_count(store: Store) {
    let user = new_user();
    let creates: Vec<_> = (0..10)
        .map(|i| {
            let repository = store.repository.clone();
            let notification = notification_for(user, &format!("n{i}"));
            tokio::spawn(
                async move { repository.insert(&notification).await.unwrap().unread_count },
            )
        })
        .collect();
    let mut counts = Vec::new();
    for create in creates {
        counts.push(create.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=10).collect::<Vec<u64>>());
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        10
    );
}

/// A write that fails (a duplicate id) among others in flight with it: it
/// alone is refused; the others, likely in its batch, are stored and
/// counted once.
async fn a_failing_write_fails_alone(store: Store) {
    let user = new_user();
    let [first] = insert_many(&store, user, 1).await.try_into().unwrap();
    let others = [notification_for(user, "b"), notification_for(user, "c")];
    let duplicate = {
        let repository = store.repository.clone();
        let first = first.clone();
        tokio::spawn(async move { repository.insert(&first).await })
    };
    let inserts: Vec<_> = others
        .iter()
        .map(|n| {
            let repository = store.repository.clone();
            let n = n.clone();
            tokio::spawn(async move { repository.insert(&n).await })
        })
        .collect();
    assert!(matches!(
        duplicate.await.unwrap(),
        Err(RepositoryError::Other(_))
    ));
    let mut counts = Vec::new();
    for insert in inserts {
        counts.push(insert.await.unwrap().unwrap().unread_count);
    }
    counts.sort_unstable();
    assert_eq!(counts, [2, 3]);
    assert_eq!(
        list(&store, user, StatusFilter::Inbox, None, 10)
            .await
            .len(),
        3
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        3
    );
}

/// Two creates with the same key in flight together (most likely in one
/// batch): one is stored, both are answered with it.
async fn the_same_idempotency_key_at_once_stores_one_notification(store: Store) {
    let user = new_user();
    let claim = IdempotencyClaim {
        publisher: new_user(),
        key: IdempotencyKey::parse("same-batch").unwrap(),
        fingerprint: RequestFingerprint::from_slice(&[3; 32]).unwrap(),
    };
    let attempts: Vec<_> = (0..4)
        .map(|i| {
            let repository = store.repository.clone();
            let claim = claim.clone();
            let notification = notification_for(user, &format!("attempt {i}"));
            tokio::spawn(async move {
                let outcome = repository
                    .insert_idempotent(&notification, &claim, now() - IDEMPOTENCY_KEY_TTL)
                    .await
                    .unwrap();
                (notification, outcome)
            })
        })
        .collect();
    let mut stored = None;
    let mut used = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            (notification, IdempotentInsert::Inserted { position }) => {
                assert_eq!(position.unread_count, 1);
                assert!(stored.replace(notification).is_none(), "two were stored");
            }
            (_, IdempotentInsert::AlreadyUsed(record)) => used.push(record.notification),
        }
    }
    let stored = stored.expect("one was stored");
    assert_eq!(used.len(), 3);
    assert!(
        used.iter().all(|n| *n == stored),
        "all answered with the stored one"
    );
    assert_eq!(
        list(&store, user, StatusFilter::Inbox, None, 10).await,
        [stored]
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

async fn mark_all_read_reports_how_many_it_changed(store: Store) {
    let (user, other) = (new_user(), new_user());
    let inserted = insert_many(&store, user, 4).await;
    insert_many(&store, other, 1).await;
    let (was_read, _) = read(&store, &inserted[0]).await;
    let (archived, _) = archive(&store, &inserted[1]).await;
    let read_at = now();

    let outcome = store.repository.mark_all_read(user, read_at).await.unwrap();

    assert_eq!((outcome.updated, outcome.unread_count), (2, 0));
    assert!(list(&store, user, StatusFilter::Only(Unread), None, 10)
        .await
        .is_empty());
    let now_read = list(&store, user, StatusFilter::Only(Read), None, 10).await;
    assert_eq!(
        ids(&now_read),
        [inserted[3].id(), inserted[2].id(), inserted[0].id()]
    );
    assert!(now_read[..2].iter().all(|n| n.read_at() == Some(read_at)));
    assert_eq!(
        now_read[2], was_read,
        "an already read one keeps its read time"
    );
    assert_eq!(
        store.repository.get(user, archived.id()).await.unwrap(),
        Some(archived),
        "archived stays archived"
    );
    assert_eq!(
        store
            .repository
            .unread_count(other)
            .await
            .unwrap()
            .unread_count,
        1,
        "other users untouched"
    );

    let again = store.repository.mark_all_read(user, now()).await.unwrap();
    assert_eq!((again.updated, again.unread_count), (0, 0));
}

async fn a_deleted_notification_is_gone_and_deleting_again_finds_nothing(store: Store) {
    let user = new_user();
    let [kept, deleted] = insert_many(&store, user, 2).await.try_into().unwrap();

    assert_eq!(
        unread_after(
            store
                .repository
                .delete(user, deleted.id(), now())
                .await
                .unwrap()
        ),
        Some(1)
    );

    assert_eq!(
        store.repository.get(user, deleted.id()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .repository
            .delete(user, deleted.id(), now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        list(&store, user, StatusFilter::Inbox, None, 10).await,
        [kept]
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

async fn concurrent_mark_all_read_and_inserts_keep_the_count_exact(store: Store) {
    // A counter set to 0 by mark_all_read would lose an insert committed while
    // the marking ran; a later mark_all_read hides the loss again. So check
    // after every round, each of which ends with inserts racing one marking.
    const ROUNDS: usize = 10;
    const INSERTERS: usize = 4;
    const INSERTS_EACH: usize = 4;
    let user = new_user();
    insert_many(&store, user, 5).await;

    for round in 0..ROUNDS {
        let mut tasks = Vec::new();
        for i in 0..INSERTERS {
            let repository = store.repository.clone();
            tasks.push(tokio::spawn(async move {
                for j in 0..INSERTS_EACH {
                    let notification = notification_for(user, &format!("{round}.{i}.{j}"));
                    repository.insert(&notification).await.unwrap();
                }
            }));
        }
        let repository = store.repository.clone();
        tasks.push(tokio::spawn(async move {
            repository.mark_all_read(user, now()).await.unwrap();
        }));
        for task in tasks {
            task.await.unwrap();
        }

        let really_unread = list(&store, user, StatusFilter::Only(Unread), None, 1000).await;
        let counted = store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count;
        assert_eq!(counted, really_unread.len() as u64, "after round {round}");
    }

    let all = list(&store, user, StatusFilter::Inbox, None, 1000).await;
    assert_eq!(
        all.len(),
        5 + ROUNDS * INSERTERS * INSERTS_EACH,
        "no insert was lost"
    );
    let unique: HashSet<_> = ids(&all).into_iter().collect();
    assert_eq!(unique.len(), all.len());
}

/// Starts every insert at once, so that the repository writes them in
/// batches (group commit); returns each insert's answer in `notifications`
/// order.
async fn insert_all_at_once(
    store: &Store,
    notifications: &[Notification],
) -> Vec<Result<u64, notification_domain::RepositoryError>> {
    let tasks: Vec<_> = notifications
        .iter()
        .map(|notification| {
            let (repository, notification) = (store.repository.clone(), notification.clone());
            tokio::spawn(async move {
                repository
                    .insert(&notification)
                    .await
                    .map(|position| position.unread_count)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

async fn concurrent_inserts_each_get_the_count_right_after_them(store: Store) {
    // Several users' notifications interleaved, some already READ (they count
    // nothing), all written at once: each user's UNREAD inserts must get the
    // counts 1..=n, each exactly once, as if written one by one.
    const PER_USER: usize = 60;
    let users = [new_user(), new_user(), new_user()];
    let mut notifications = Vec::new();
    for i in 0..PER_USER {
        for user in users {
            let mut notification = notification_for(user, &format!("n{i}"));
            if i % 5 == 0 {
                notification.mark_read(now());
            }
            notifications.push(notification);
        }
    }
    let answers = insert_all_at_once(&store, &notifications).await;

    for user in users {
        let mut counts: Vec<u64> = notifications
            .iter()
            .zip(&answers)
            .filter(|(n, _)| n.user_id() == user && n.status() == Unread)
            .map(|(_, answer)| *answer.as_ref().unwrap())
            .collect();
        counts.sort_unstable();
        let unread = counts.len() as u64;
        assert_eq!(counts, (1..=unread).collect::<Vec<_>>(), "{user:?}");
        assert_eq!(
            store
                .repository
                .unread_count(user)
                .await
                .unwrap()
                .unread_count,
            unread
        );
        let stored = list(&store, user, StatusFilter::Inbox, None, 1000).await;
        assert_eq!(stored.len(), PER_USER);
    }
    for (notification, answer) in notifications.iter().zip(&answers) {
        assert!(answer.is_ok());
        let stored = store
            .repository
            .get(notification.user_id(), notification.id())
            .await
            .unwrap();
        assert_eq!(stored.as_ref(), Some(notification), "reads back equal");
    }
}

async fn a_failing_insert_among_concurrent_ones_fails_alone(store: Store) {
    // The same notification twice (its id is taken the second time) among
    // others written at once: whichever batches they land in, exactly one of
    // the pair fails and every other insert is stored and counted.
    let user = new_user();
    let mut notifications: Vec<Notification> = (0..40)
        .map(|i| notification_for(user, &format!("n{i}")))
        .collect();
    notifications.insert(20, notifications[10].clone());
    let answers = insert_all_at_once(&store, &notifications).await;

    let failed: Vec<usize> = (0..answers.len())
        .filter(|&i| answers[i].is_err())
        .collect();
    assert_eq!(failed.len(), 1, "{answers:?}");
    assert!(failed[0] == 10 || failed[0] == 20, "{failed:?}");
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        40
    );
    let stored = list(&store, user, StatusFilter::Inbox, None, 1000).await;
    assert_eq!(stored.len(), 40);
}

async fn migrating_twice_is_harmless(store: Store) {
    migrate(&store.url).await.unwrap();
    migrate(&store.url).await.unwrap();

    let user = new_user();
    let [notification] = insert_many(&store, user, 1).await.try_into().unwrap();
    let reopened = connect(&store.url, &BackgroundTasks::new())
        .await
        .unwrap()
        .repository();
    assert_eq!(
        reopened.get(user, notification.id()).await.unwrap(),
        Some(notification)
    );
}

async fn the_database_answers_a_ping(store: Store) {
    store.repository.ping().await.unwrap();
}

// ---- idempotent inserts -----------------------------------------------------

/// Long enough ago that nothing a test inserted counts as expired.
fn long_ago() -> OffsetDateTime {
    now() - Duration::days(3650)
}

/// A new notification titled `title` for `user`, created at `created_at`.
fn notification_at(user: UserId, title: &str, created_at: OffsetDateTime) -> Notification {
    let draft = NotificationDraft::parse(user, title, "body", None, None).unwrap();
    Notification::new(draft, NotificationId::new(), created_at)
}

/// `publisher`'s claim of `key` for a request creating `notification`.
fn claim_for(publisher: UserId, key: &str, notification: &Notification) -> IdempotencyClaim {
    let draft = NotificationDraft::parse(
        notification.user_id(),
        notification.title(),
        notification.message(),
        Some(notification.notification_type()),
        Some(json!(notification.metadata().as_map())),
    )
    .unwrap();
    IdempotencyClaim {
        publisher,
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: RequestFingerprint::of(&draft),
    }
}

/// A random key, so PostgreSQL tests sharing a database never collide.
fn fresh_key() -> String {
    format!("key-{}", Uuid::new_v4())
}

async fn insert_idempotent(
    store: &Store,
    notification: &Notification,
    claim: &IdempotencyClaim,
    expired_before: OffsetDateTime,
) -> IdempotentInsert {
    store
        .repository
        .insert_idempotent(notification, claim, expired_before)
        .await
        .unwrap()
}

async fn a_free_idempotency_key_stores_the_notification_and_counts_it(store: Store) {
    let (publisher, user) = (new_user(), new_user());
    let notification = notification_for(user, "Paid");
    let claim = claim_for(publisher, &fresh_key(), &notification);

    let outcome = insert_idempotent(&store, &notification, &claim, long_ago()).await;

    assert_eq!(
        outcome,
        IdempotentInsert::Inserted {
            position: InboxPosition {
                seq: 1,
                unread_count: 1
            }
        }
    );
    assert_eq!(
        store.repository.get(user, notification.id()).await.unwrap(),
        Some(notification)
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

async fn a_used_key_answers_its_record_and_stores_nothing(store: Store) {
    let (publisher, user, key) = (new_user(), new_user(), fresh_key());
    let first = notification_for(user, "Paid");
    let claim = claim_for(publisher, &key, &first);
    insert_idempotent(&store, &first, &claim, long_ago()).await;

    let repeat = notification_for(user, "Paid");
    let outcome = insert_idempotent(&store, &repeat, &claim, long_ago()).await;

    let IdempotentInsert::AlreadyUsed(record) = outcome else {
        panic!("expected the first record, got {outcome:?}");
    };
    assert_eq!(record.notification, first);
    assert_eq!(record.fingerprint, claim.fingerprint);
    assert_eq!(store.repository.get(user, repeat.id()).await.unwrap(), None);
    assert_eq!(
        ids(&list(&store, user, StatusFilter::Inbox, None, 10).await),
        [first.id()]
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

async fn a_used_key_answers_its_record_whatever_the_new_fingerprint(store: Store) {
    let (publisher, user, key) = (new_user(), new_user(), fresh_key());
    let first = notification_for(user, "Paid");
    let first_claim = claim_for(publisher, &key, &first);
    insert_idempotent(&store, &first, &first_claim, long_ago()).await;

    let other = notification_for(user, "Refunded");
    let other_claim = claim_for(publisher, &key, &other);
    assert_ne!(other_claim.fingerprint, first_claim.fingerprint);
    let outcome = insert_idempotent(&store, &other, &other_claim, long_ago()).await;

    let IdempotentInsert::AlreadyUsed(record) = outcome else {
        panic!("expected the first record, got {outcome:?}");
    };
    assert_eq!(record.fingerprint, first_claim.fingerprint);
    assert!(!record.is_repeat_of(&other_claim.fingerprint));
    assert_eq!(
        list(&store, user, StatusFilter::Inbox, None, 10)
            .await
            .len(),
        1
    );
}

async fn the_same_key_of_another_publisher_is_independent(store: Store) {
    let (one, other, user, key) = (new_user(), new_user(), new_user(), fresh_key());
    let first = notification_for(user, "Paid");
    let second = notification_for(user, "Paid");

    let outcomes = [
        insert_idempotent(&store, &first, &claim_for(one, &key, &first), long_ago()).await,
        insert_idempotent(
            &store,
            &second,
            &claim_for(other, &key, &second),
            long_ago(),
        )
        .await,
    ];

    assert_eq!(
        outcomes,
        [
            IdempotentInsert::Inserted {
                position: InboxPosition {
                    seq: 1,
                    unread_count: 1
                }
            },
            IdempotentInsert::Inserted {
                position: InboxPosition {
                    seq: 2,
                    unread_count: 2
                }
            }
        ]
    );
}

async fn the_record_is_the_notification_as_first_created_even_after_it_changed_or_went(
    store: Store,
) {
    let (publisher, user, key) = (new_user(), new_user(), fresh_key());
    let metadata = json!({"order": {"id": 42, "items": ["a", "b"]}, "note": "ação ✓"});
    let draft = NotificationDraft::parse(
        user,
        "Nova transação",
        "Line one\nLine two",
        Some(NotificationType::Warning),
        Some(metadata),
    )
    .unwrap();
    let first = Notification::new(draft, NotificationId::new(), now());
    let claim = claim_for(publisher, &key, &first);
    insert_idempotent(&store, &first, &claim, long_ago()).await;
    let repeat = |store: &Store| {
        let repeat = notification_for(user, "Nova transação");
        let claim = claim.clone();
        let repository = store.repository.clone();
        async move {
            match repository
                .insert_idempotent(&repeat, &claim, long_ago())
                .await
                .unwrap()
            {
                IdempotentInsert::AlreadyUsed(record) => record.notification,
                other => panic!("expected the first record, got {other:?}"),
            }
        }
    };

    read(&store, &first).await;
    assert_eq!(repeat(&store).await, first, "after it was read");
    store
        .repository
        .delete(user, first.id(), now())
        .await
        .unwrap();
    assert_eq!(repeat(&store).await, first, "after it was deleted");
}

async fn concurrent_inserts_with_one_key_store_exactly_one_notification(store: Store) {
    const REQUESTS: usize = 16;
    let (publisher, user, key) = (new_user(), new_user(), fresh_key());
    let claim = claim_for(publisher, &key, &notification_for(user, "Paid"));

    let attempts: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let repository = store.repository.clone();
            let claim = claim.clone();
            let notification = notification_for(user, "Paid");
            tokio::spawn(async move {
                let outcome = repository
                    .insert_idempotent(&notification, &claim, long_ago())
                    .await
                    .unwrap();
                (notification, outcome)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut answered = HashSet::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            (notification, IdempotentInsert::Inserted { position }) => {
                assert_eq!(position.unread_count, 1);
                answered.insert(notification.id());
                winners.push(notification);
            }
            (_, IdempotentInsert::AlreadyUsed(record)) => {
                answered.insert(record.notification.id());
            }
        }
    }

    assert_eq!(winners.len(), 1, "exactly one request stores");
    assert_eq!(
        answered,
        HashSet::from([winners[0].id()]),
        "every request answers the winner's notification"
    );
    assert_eq!(
        list(&store, user, StatusFilter::Inbox, None, 100).await,
        winners
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

async fn an_expired_key_is_as_good_as_new(store: Store) {
    let (publisher, user, key) = (new_user(), new_user(), fresh_key());
    let recorded_at = now() - IDEMPOTENCY_KEY_TTL - Duration::minutes(1);
    let old = notification_at(user, "Paid", recorded_at);
    let claim = claim_for(publisher, &key, &old);
    insert_idempotent(&store, &old, &claim, long_ago()).await;

    // A key recorded exactly at the cutoff is still alive; a microsecond later
    // it has expired.
    let at_cutoff = notification_for(user, "Paid");
    let outcome = insert_idempotent(&store, &at_cutoff, &claim, recorded_at).await;
    assert!(
        matches!(outcome, IdempotentInsert::AlreadyUsed(_)),
        "{outcome:?}"
    );
    let renewed = notification_for(user, "Paid");
    let cutoff = recorded_at + Duration::microseconds(1);
    let outcome = insert_idempotent(&store, &renewed, &claim, cutoff).await;
    assert!(
        matches!(outcome, IdempotentInsert::Inserted { position } if position.unread_count == 2),
        "{outcome:?}"
    );

    let repeat = notification_for(user, "Paid");
    match insert_idempotent(&store, &repeat, &claim, cutoff).await {
        IdempotentInsert::AlreadyUsed(record) => assert_eq!(record.notification, renewed),
        other => panic!("expected the renewed record, got {other:?}"),
    }
}

async fn purging_forgets_only_keys_older_than_the_cutoff_in_bounded_chunks(store: Store) {
    let (publisher, user) = (new_user(), new_user());
    let cutoff = now() - IDEMPOTENCY_KEY_TTL;
    let old = notification_at(user, "old", cutoff - Duration::seconds(1));
    let older = notification_at(user, "older", cutoff - Duration::seconds(2));
    let oldest = notification_at(user, "oldest", cutoff - Duration::seconds(3));
    let at_cutoff = notification_at(user, "at the cutoff", cutoff);
    let fresh = notification_for(user, "fresh");
    let mut claims = Vec::new();
    for notification in [&old, &older, &oldest, &at_cutoff, &fresh] {
        let claim = claim_for(publisher, &fresh_key(), notification);
        insert_idempotent(&store, notification, &claim, long_ago()).await;
        claims.push(claim);
    }

    // At least three keys are expired (ours; on PostgreSQL, whose tests
    // share a database, maybe other tests' too, but no other test purges):
    // a chunk of two deletes exactly two.
    let chunk = 2;
    let first = store
        .repository
        .purge_idempotency_keys(cutoff, chunk)
        .await
        .unwrap();
    assert_eq!(first, u64::from(chunk), "one chunk is bounded by its limit");
    let mut purged = first;
    loop {
        let more = store
            .repository
            .purge_idempotency_keys(cutoff, chunk)
            .await
            .unwrap();
        purged += more;
        if more < u64::from(chunk) {
            break;
        }
    }
    assert!(purged >= 3, "purged {purged}");
    let still_used = |claim: IdempotencyClaim| {
        let repository = store.repository.clone();
        async move {
            let probe = notification_for(user, "probe");
            let outcome = repository
                .insert_idempotent(&probe, &claim, long_ago())
                .await
                .unwrap();
            matches!(outcome, IdempotentInsert::AlreadyUsed(_))
        }
    };
    let [old_claim, older_claim, oldest_claim, at_cutoff_claim, fresh_claim]: [IdempotencyClaim;
        5] = claims.try_into().unwrap();
    for claim in [old_claim, older_claim, oldest_claim] {
        assert!(!still_used(claim).await, "an old key is forgotten");
    }
    assert!(
        still_used(at_cutoff_claim).await,
        "a key at the cutoff is kept"
    );
    assert!(still_used(fresh_claim).await, "a fresh key is kept");
    assert_eq!(
        store.repository.get(user, old.id()).await.unwrap(),
        Some(old),
        "purging keys never touches notifications"
    );
}

async fn closed_storage_answers_unavailable_and_stores_nothing(store: Store) {
    let user = new_user();
    let [kept] = insert_many(&store, user, 1).await.try_into().unwrap();

    store.storage.close().await;

    let late = notification_for(user, "after close");
    assert!(matches!(
        store.repository.insert(&late).await,
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(
        store.repository.get(user, kept.id()).await,
        Err(RepositoryError::Unavailable(_))
    ));
    let reopened = connect(&store.url, &BackgroundTasks::new())
        .await
        .unwrap()
        .repository();
    assert_eq!(reopened.get(user, late.id()).await.unwrap(), None);
    assert_eq!(reopened.get(user, kept.id()).await.unwrap(), Some(kept));
}

// ---- SQLite only ------------------------------------------------------------

/// The file behind a `sqlite://` test URL.
fn sqlite_file(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("sqlite://").unwrap())
}

#[tokio::test]
async fn connect_creates_a_missing_sqlite_folder_and_file() {
    let url = fresh_sqlite_url();
    let file = sqlite_file(&url);
    assert!(!file.parent().unwrap().exists());

    connect(&DatabaseUrl::parse(&url).unwrap(), &BackgroundTasks::new())
        .await
        .unwrap();

    assert!(file.is_file());
}

#[tokio::test]
async fn reopening_a_sqlite_file_keeps_the_data() {
    let url = fresh_sqlite_url();
    let user = new_user();
    let notification = notification_for(user, "kept");
    {
        let store = open(&url).await;
        store.repository.insert(&notification).await.unwrap();
    }

    let reopened = open(&url).await;

    assert_eq!(
        reopened
            .repository
            .get(user, notification.id())
            .await
            .unwrap(),
        Some(notification)
    );
    assert_eq!(
        reopened
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

#[tokio::test]
async fn an_in_memory_sqlite_database_reads_what_it_wrote() {
    let store = open("sqlite::memory:").await;
    let user = new_user();
    let notification = notification_for(user, "in memory");

    store.repository.insert(&notification).await.unwrap();

    assert_eq!(
        list(&store, user, StatusFilter::Inbox, None, 10).await,
        [notification]
    );
    assert_eq!(
        store
            .repository
            .unread_count(user)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

#[tokio::test]
async fn postgres_creates_survive_the_server_closing_every_connection() {
    // Batch writers keep their connection between batches, unchecked. When
    // the server ends every session (a restart, an administrator), the next
    // create must still succeed, on a new connection. A database of its own:
    // the other tests' sessions are not to be ended.
    let url = fresh_postgres_database().await;
    let store = open(&url).await;
    let user = new_user();
    let first = notification_for(user, "before");
    assert_eq!(
        store.repository.insert(&first).await.unwrap().unread_count,
        1
    );

    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    // With a timeout, pg_terminate_backend returns once each session is gone.
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!ended.is_empty() && ended.iter().all(|&e| e), "{ended:?}");

    let second = notification_for(user, "after");
    assert_eq!(
        store.repository.insert(&second).await.unwrap().unread_count,
        2
    );
    let stored = list(&store, user, StatusFilter::Inbox, None, 10).await;
    assert_eq!(ids(&stored), vec![second.id(), first.id()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_write_behind_a_held_counter_lock_gives_up_as_unavailable() {
    // A transaction that holds a user's counter row and never ends (a stuck
    // client of the same database) must not hold that user's writes, nor the
    // batch they share with other users' creates, forever.
    let url = fresh_postgres_database().await;
    let limits = WriteLimits {
        lock_wait: std::time::Duration::from_millis(100),
        ..WriteLimits::default()
    };
    let storage = connect_with_limits(
        &DatabaseUrl::parse(&url).unwrap(),
        limits,
        &BackgroundTasks::new(),
    )
    .await
    .unwrap();
    let repository = storage.repository();
    let user = new_user();
    let first = notification_for(user, "first");
    repository.insert(&first).await.unwrap();

    let mut stuck = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut stuck).await.unwrap();
    sqlx::query("SELECT 1 FROM unread_counters WHERE user_id = $1 FOR UPDATE")
        .bind(user.into_uuid())
        .execute(&mut stuck)
        .await
        .unwrap();

    assert!(matches!(
        repository
            .change_status(user, first.id(), StatusChange::Read, now())
            .await,
        Err(RepositoryError::Unavailable(_))
    ));
    let blocked = notification_for(user, "blocked");
    assert!(matches!(
        repository.insert(&blocked).await,
        Err(RepositoryError::Unavailable(_))
    ));

    sqlx::query("ROLLBACK").execute(&mut stuck).await.unwrap();
    assert_eq!(repository.get(user, blocked.id()).await.unwrap(), None);
    let outcome = repository
        .change_status(user, first.id(), StatusChange::Read, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.unread_count, 0);
    storage.close().await;
}

/// The unread count after a delete, when there was something to delete.
fn unread_after(deleted: Option<InboxPosition>) -> Option<u64> {
    deleted.map(|position| position.unread_count)
}
