//! The change sequence and the change log (contract §7), on both databases:
//! every change takes its user's next `seq`, a repeat takes none, and the log
//! gives back exactly the events that were published, in order, until it is
//! pruned.

use std::sync::Mutex;

use async_trait::async_trait;
use notification_application::{Idempotency, NotificationService};
use notification_domain::{
    ChangesAfter, DomainEvent, EventPublisher, IdempotencyKey, NotificationDraft, PublishError,
};
use serde_json::json;

use super::*;

conformance_tests!(
    every_change_takes_the_users_next_seq_and_a_repeat_takes_none,
    concurrent_creates_of_several_users_take_consecutive_seqs_in_order,
    two_nodes_writing_to_the_same_users_keep_one_exact_sequence_each,
    the_log_gives_back_exactly_the_events_that_were_published,
    the_log_pages_exactly,
    after_beyond_the_latest_is_gone_and_the_latest_itself_an_empty_page,
    pruned_changes_are_gone_and_the_purge_goes_in_bounded_chunks,
    a_creation_seq_outlives_its_notification_and_is_only_its_owners,
    latest_seqs_answers_for_many_users_at_once,
);

/// Every event the service published, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<DomainEvent>>);

#[async_trait]
impl EventPublisher for Recorder {
    async fn publish(&self, event: DomainEvent) -> Result<(), PublishError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }

    async fn ping(&self) -> Result<(), PublishError> {
        Ok(())
    }
}

fn position(seq: u64, unread_count: u64) -> InboxPosition {
    InboxPosition { seq, unread_count }
}

/// Every change of the user after `after`, read in one go.
async fn changes(store: &Store, user: UserId, after: u64) -> ChangesAfter {
    store
        .repository
        .changes_after(user, after, notification_domain::MAX_CHANGES_PER_READ)
        .await
        .unwrap()
}

fn seqs(changes: &ChangesAfter) -> Vec<u64> {
    match changes {
        ChangesAfter::Kept { changes, .. } => changes.iter().map(DomainEvent::seq).collect(),
        ChangesAfter::Gone { .. } => panic!("expected kept changes, got {changes:?}"),
    }
}

async fn every_change_takes_the_users_next_seq_and_a_repeat_takes_none(store: Store) {
    let repository = &store.repository;
    let (user, other) = (new_user(), new_user());
    assert_eq!(repository.unread_count(user).await.unwrap(), position(0, 0));
    let [a, b, c] = insert_many(&store, user, 3).await.try_into().unwrap();
    assert_eq!(repository.unread_count(user).await.unwrap(), position(3, 3));

    let read = status_change_of(&store, &a, StatusChange::Read).await;
    assert_eq!((read.changed, read.seq, read.unread_count), (true, 4, 2));
    let again = status_change_of(&store, &a, StatusChange::Read).await;
    assert_eq!(
        (again.changed, again.seq),
        (false, 4),
        "a repeat takes no number"
    );
    let unread = status_change_of(&store, &a, StatusChange::Unread).await;
    assert_eq!((unread.seq, unread.unread_count), (5, 3));
    let archived = status_change_of(&store, &b, StatusChange::Archive).await;
    assert_eq!((archived.seq, archived.unread_count), (6, 2));

    let all = repository.mark_all_read(user, now()).await.unwrap();
    assert_eq!((all.updated, all.seq, all.unread_count), (2, 7, 0));
    let nothing = repository.mark_all_read(user, now()).await.unwrap();
    assert_eq!(
        (nothing.updated, nothing.seq),
        (0, 7),
        "a read-all that reads nothing takes no number"
    );

    let deleted = repository.delete(user, c.id(), now()).await.unwrap();
    assert_eq!(deleted, Some(position(8, 0)));
    assert_eq!(repository.delete(user, c.id(), now()).await.unwrap(), None);

    assert_eq!(repository.unread_count(user).await.unwrap(), position(8, 0));
    let query = ListQuery {
        filter: StatusFilter::Inbox,
        before: None,
        limit: 10,
    };
    let (items, seq) = repository.list(user, query).await.unwrap();
    assert_eq!((items.len(), seq), (1, 8));
    assert_eq!(
        seqs(&changes(&store, user, 0).await),
        (1..=8).collect::<Vec<_>>()
    );

    let first_of_other = repository
        .insert(&notification_for(other, "x"))
        .await
        .unwrap();
    assert_eq!(first_of_other, position(1, 1), "each user has a sequence");
}

async fn concurrent_creates_of_several_users_take_consecutive_seqs_in_order(store: Store) {
    const EACH: usize = 24;
    let users = [new_user(), new_user(), new_user()];
    // Interleaved, all at once: the writer batches them, several of one user
    // per batch.
    let notifications: Vec<Notification> = (0..EACH)
        .flat_map(|i| users.map(|user| notification_for(user, &format!("n{i}"))))
        .collect();
    let tasks: Vec<_> = notifications
        .iter()
        .map(|notification| {
            let (repository, notification) = (store.repository.clone(), notification.clone());
            tokio::spawn(async move {
                (
                    notification.user_id(),
                    repository.insert(&notification).await,
                )
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let (user, answer) = task.await.unwrap();
        answers.push((user, answer.unwrap()));
    }
    for user in users {
        let mut mine: Vec<InboxPosition> = answers
            .iter()
            .filter(|(of, _)| *of == user)
            .map(|(_, position)| *position)
            .collect();
        mine.sort_by_key(|position| position.seq);
        let expected: Vec<InboxPosition> = (1..=EACH as u64).map(|n| position(n, n)).collect();
        // Only creates: the k-th change of the user is its k-th unread, so
        // each create's seq and count agree with the order it was written in.
        assert_eq!(mine, expected);
        assert_eq!(
            seqs(&changes(&store, user, 0).await),
            (1..=EACH as u64).collect::<Vec<_>>()
        );
    }
}

/// Two nodes on one database: one writes plain creates (on PostgreSQL a
/// batch of those is one statement without a transaction), the other lists
/// and read-alls (transactions) for the same users at the same time. Each
/// user's log must still be one gap-free sequence whose counts add up.
async fn two_nodes_writing_to_the_same_users_keep_one_exact_sequence_each(store: Store) {
    const EACH: usize = 20;
    let other_node = connect(&store.url, &BackgroundTasks::new())
        .await
        .unwrap()
        .repository();
    let users = [new_user(), new_user()];
    let mut tasks = Vec::new();
    for i in 0..EACH {
        for user in users {
            let creates = store.repository.clone();
            let single = notification_for(user, &format!("a{i}"));
            tasks.push(tokio::spawn(async move {
                creates.insert(&single).await.map(|_| ())
            }));
            let mixed = other_node.clone();
            let list = vec![
                notification_for(user, &format!("b{i}")),
                notification_for(user, &format!("c{i}")),
            ];
            tasks.push(tokio::spawn(async move {
                mixed.insert_batch(&list).await?;
                if i % 5 == 4 {
                    mixed.mark_all_read(user, now()).await?;
                }
                Ok(())
            }));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for user in users {
        let log = changes(&store, user, 0).await;
        let ChangesAfter::Kept {
            changes: events, ..
        } = &log
        else {
            panic!("expected kept changes, got {log:?}");
        };
        let read_alls = events.len() - 3 * EACH;
        assert_eq!(
            seqs(&log),
            (1..=(3 * EACH + read_alls) as u64).collect::<Vec<_>>(),
            "one gap-free sequence across both nodes"
        );
        // Each change's count follows from the one before it.
        let mut count = 0;
        for event in events {
            count = match event {
                DomainEvent::NotificationCreated(_) => count + 1,
                _ => 0,
            };
            assert_eq!(event.unread_count(), count, "at seq {}", event.seq());
        }
        let stored = store.repository.unread_count(user).await.unwrap();
        assert_eq!(stored, position((3 * EACH + read_alls) as u64, count));
    }
}

async fn the_log_gives_back_exactly_the_events_that_were_published(store: Store) {
    let recorder = Arc::new(Recorder::default());
    let service = NotificationService::new(store.repository.clone(), recorder.clone());
    let (user, publisher) = (new_user(), new_user());
    let draft = |title: &str| {
        NotificationDraft::parse(
            user,
            title,
            "body",
            Some(NotificationType::Warning),
            Some(json!({"order": 42, "tags": ["a", "b"], "nested": {"z": 1.5, "a": null}})),
        )
        .unwrap()
    };
    let keyed = || Idempotency {
        publisher,
        key: IdempotencyKey::parse("order-42").unwrap(),
    };
    let a = service
        .create(draft("a"), None)
        .await
        .unwrap()
        .into_notification();
    let b = service.create(draft("b"), Some(keyed())).await.unwrap();
    let replay = service.create(draft("b"), Some(keyed())).await.unwrap();
    assert!(
        replay.is_replay(),
        "a replay publishes nothing and takes no seq"
    );
    let c = service
        .create(draft("c"), None)
        .await
        .unwrap()
        .into_notification();
    service.mark_read(user, a.id()).await.unwrap();
    service.mark_read(user, a.id()).await.unwrap();
    service.archive(user, a.id()).await.unwrap();
    service.mark_unread(user, a.id()).await.unwrap();
    service.read_all(user).await.unwrap();
    service.delete(user, b.notification().id()).await.unwrap();
    service.delete(user, c.id()).await.unwrap();

    let published = recorder.0.lock().unwrap().clone();
    assert_eq!(published.len(), 9);
    let ChangesAfter::Kept { changes, latest } = service.changes(user, 0, 500).await.unwrap()
    else {
        panic!("the whole log is kept");
    };
    assert_eq!(changes, published, "the log rebuilds every published event");
    assert_eq!(latest, position(9, 0));
    // Also the deleted ones' creates, with their content.
    assert_eq!(
        service.creation_seq(user, c.id()).await.unwrap(),
        Some(3),
        "c was the third change"
    );
}

async fn the_log_pages_exactly(store: Store) {
    let user = new_user();
    let notifications = insert_many(&store, user, 4).await;
    for notification in &notifications[..3] {
        read(&store, notification).await;
    }
    let whole = seqs(&changes(&store, user, 0).await);
    assert_eq!(whole, (1..=7).collect::<Vec<_>>());

    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .repository
            .changes_after(user, after, 3)
            .await
            .unwrap();
        let ChangesAfter::Kept { changes, latest } = page else {
            panic!("gone after {after}");
        };
        assert_eq!(latest, position(7, 1));
        assert!(changes.len() <= 3);
        let Some(last) = changes.last() else { break };
        after = last.seq();
        paged.extend(changes.iter().map(DomainEvent::seq));
    }
    assert_eq!(paged, whole, "pages of 3 visit every change once, in order");
}

async fn after_beyond_the_latest_is_gone_and_the_latest_itself_an_empty_page(store: Store) {
    let (user, idle) = (new_user(), new_user());
    insert_many(&store, user, 2).await;
    assert_eq!(
        changes(&store, user, 2).await,
        ChangesAfter::Kept {
            changes: Vec::new(),
            latest: position(2, 2)
        }
    );
    assert_eq!(
        changes(&store, user, 3).await,
        ChangesAfter::Gone {
            latest: position(2, 2)
        }
    );
    assert_eq!(
        changes(&store, idle, 0).await,
        ChangesAfter::Kept {
            changes: Vec::new(),
            latest: position(0, 0)
        },
        "a user without changes is at 0"
    );
    assert!(matches!(
        changes(&store, idle, 1).await,
        ChangesAfter::Gone { .. }
    ));
}

async fn pruned_changes_are_gone_and_the_purge_goes_in_bounded_chunks(store: Store) {
    // Far older than anything other tests write, so the purge below (which
    // takes every user's old rows) cannot touch what they read.
    let ancient = now() - Duration::days(365 * 30);
    let cutoff = ancient + Duration::days(365);
    let user = new_user();
    let old: Vec<Notification> = (0..5)
        .map(|i| notification_at(user, &format!("old {i}"), ancient + Duration::seconds(i)))
        .collect();
    for notification in &old {
        store.repository.insert(notification).await.unwrap();
    }
    let recent = insert_many(&store, user, 2).await;

    let mut chunks = Vec::new();
    loop {
        let purged = store.repository.purge_changes(cutoff, 2).await.unwrap();
        assert!(purged <= 2, "a chunk is bounded by its limit");
        chunks.push(purged);
        if purged < 2 {
            break;
        }
    }
    assert!(chunks.iter().sum::<u64>() >= 5, "{chunks:?}");

    assert_eq!(
        changes(&store, user, 0).await,
        ChangesAfter::Gone {
            latest: position(7, 7)
        }
    );
    assert!(matches!(
        changes(&store, user, 4).await,
        ChangesAfter::Gone { .. }
    ));
    assert_eq!(seqs(&changes(&store, user, 5).await), vec![6, 7]);
    assert_eq!(
        store
            .repository
            .creation_seq(user, old[0].id())
            .await
            .unwrap(),
        None,
        "a pruned create has no seq any more"
    );
    assert_eq!(
        store
            .repository
            .creation_seq(user, recent[1].id())
            .await
            .unwrap(),
        Some(7)
    );
    assert_eq!(
        store.repository.unread_count(user).await.unwrap(),
        position(7, 7),
        "pruning the log changes no position"
    );
}

async fn a_creation_seq_outlives_its_notification_and_is_only_its_owners(store: Store) {
    let (user, stranger) = (new_user(), new_user());
    let [first, second] = insert_many(&store, user, 2).await.try_into().unwrap();
    let repository = &store.repository;
    assert_eq!(
        repository.creation_seq(user, first.id()).await.unwrap(),
        Some(1)
    );
    repository.delete(user, second.id(), now()).await.unwrap();
    assert_eq!(
        repository.creation_seq(user, second.id()).await.unwrap(),
        Some(2),
        "also after the delete"
    );
    assert_eq!(
        repository.creation_seq(stranger, first.id()).await.unwrap(),
        None
    );
    assert_eq!(
        repository
            .creation_seq(user, NotificationId::new())
            .await
            .unwrap(),
        None
    );
}

async fn latest_seqs_answers_for_many_users_at_once(store: Store) {
    let (one, two, idle) = (new_user(), new_user(), new_user());
    insert_many(&store, one, 1).await;
    let [n, _] = insert_many(&store, two, 2).await.try_into().unwrap();
    read(&store, &n).await;

    let mut answer = store
        .repository
        .latest_seqs(&[one, two, idle])
        .await
        .unwrap();
    answer.sort_by_key(|(_, position)| position.seq);
    let expected = vec![(one, position(1, 1)), (two, position(3, 1))];
    // A user without changes may be left out (= seq 0).
    answer.retain(|(_, position)| position.seq > 0);
    assert_eq!(answer, expected);
    assert_eq!(store.repository.latest_seqs(&[]).await.unwrap(), Vec::new());
}

/// Applies a status change that must find its notification.
async fn status_change_of(
    store: &Store,
    notification: &Notification,
    status_change: StatusChange,
) -> notification_domain::StatusChangeOutcome {
    store
        .repository
        .change_status(
            notification.user_id(),
            notification.id(),
            status_change,
            now(),
        )
        .await
        .unwrap()
        .unwrap()
}
