//! Batch creates (contract §9) on both databases: one write through the
//! writer, so one transaction however large, all or nothing (the writer's
//! one-by-one fallback never splits it), and an idempotency key that stands
//! for the whole list.

use notification_domain::{
    BatchIdempotencyRecord, IdempotentBatchInsert, IdempotentInsert, InboxPosition,
};

use super::*;

conformance_tests!(
    a_batch_larger_than_the_writers_batch_is_stored_whole_with_consecutive_seqs,
    a_batch_with_one_item_failing_in_the_database_stores_none_and_fails_alone,
    a_batch_key_answers_the_whole_list_and_stores_nothing_more,
    concurrent_batches_with_one_key_store_exactly_one,
    a_key_is_shared_by_single_creates_and_batches_and_never_confused,
    a_read_all_reads_the_batch_rows_created_before_it_and_not_those_after,
);

/// More items than the writer puts in one transaction (`MAX_BATCH`, 256).
const LARGE: usize = 300;

/// `count` new notifications, alternating between `users`.
fn batch_for(users: &[UserId], count: usize) -> Vec<Notification> {
    let at = now();
    (0..count)
        .map(|i| notification_at(users[i % users.len()], &format!("item {i}"), at))
        .collect()
}

/// `publisher`'s claim of `key` for a batch creating `notifications`.
fn batch_claim(publisher: UserId, key: &str, notifications: &[Notification]) -> IdempotencyClaim {
    let drafts: Vec<NotificationDraft> = notifications
        .iter()
        .map(|n| NotificationDraft::parse(n.user_id(), n.title(), n.message(), None, None).unwrap())
        .collect();
    IdempotencyClaim {
        publisher,
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: RequestFingerprint::of_batch(&drafts),
    }
}

async fn count_of(store: &Store, user: UserId) -> InboxPosition {
    store.repository.unread_count(user).await.unwrap()
}

async fn a_batch_larger_than_the_writers_batch_is_stored_whole_with_consecutive_seqs(store: Store) {
    let (alice, bob) = (new_user(), new_user());
    let [earlier] = insert_many(&store, alice, 1).await.try_into().unwrap();
    let batch = batch_for(&[alice, bob], LARGE);

    let positions = store.repository.insert_batch(&batch).await.unwrap();

    assert_eq!(positions.len(), LARGE);
    // Each user's items take that user's next seqs, in item order.
    let seqs_of = |user: UserId| -> Vec<(u64, u64)> {
        batch
            .iter()
            .zip(&positions)
            .filter(|(n, _)| n.user_id() == user)
            .map(|(_, p)| (p.seq, p.unread_count))
            .collect()
    };
    let half = (LARGE / 2) as u64;
    let expected_alice: Vec<(u64, u64)> = (2..=half + 1).map(|s| (s, s)).collect();
    let expected_bob: Vec<(u64, u64)> = (1..=half).map(|s| (s, s)).collect();
    assert_eq!(seqs_of(alice), expected_alice);
    assert_eq!(seqs_of(bob), expected_bob);
    assert_eq!(count_of(&store, alice).await.unread_count, half + 1);
    assert_eq!(count_of(&store, bob).await.seq, half);
    let stored = list(&store, alice, StatusFilter::Inbox, None, 500).await;
    assert_eq!(stored.len(), LARGE / 2 + 1);
    assert!(stored.contains(&earlier));
    for notification in &batch {
        let read = store
            .repository
            .get(notification.user_id(), notification.id())
            .await
            .unwrap();
        assert_eq!(read.as_ref(), Some(notification), "reads back equal");
    }
}

async fn a_batch_with_one_item_failing_in_the_database_stores_none_and_fails_alone(store: Store) {
    let (alice, bob) = (new_user(), new_user());
    let [existing] = insert_many(&store, alice, 1).await.try_into().unwrap();
    // The last of more than a writer's batch repeats a stored id: only the
    // database can tell, at the very end.
    let mut batch = batch_for(&[alice, bob], LARGE - 1);
    batch.push(existing.clone());
    let before = (count_of(&store, alice).await, count_of(&store, bob).await);

    // Other writes in flight at the same time, likely in the same writer
    // batch: its failure re-runs each write alone, the batch as one.
    let failing = {
        let repository = store.repository.clone();
        let batch = batch.clone();
        tokio::spawn(async move { repository.insert_batch(&batch).await })
    };
    let carol = new_user();
    let others: Vec<_> = (0..8)
        .map(|i| {
            let repository = store.repository.clone();
            let n = notification_for(carol, &format!("other {i}"));
            tokio::spawn(async move { repository.insert(&n).await })
        })
        .collect();

    assert!(matches!(
        failing.await.unwrap(),
        Err(RepositoryError::Other(_))
    ));
    for other in others {
        other.await.unwrap().unwrap();
    }
    assert_eq!(
        list(&store, alice, StatusFilter::Inbox, None, 500).await,
        vec![existing],
        "none of the batch is stored"
    );
    assert!(list(&store, bob, StatusFilter::Inbox, None, 500)
        .await
        .is_empty());
    assert_eq!(
        (count_of(&store, alice).await, count_of(&store, bob).await),
        before,
        "no count changed and no seq was taken"
    );
    assert_eq!(count_of(&store, carol).await.unread_count, 8);
}

async fn a_batch_key_answers_the_whole_list_and_stores_nothing_more(store: Store) {
    let (publisher, alice, bob, key) = (new_user(), new_user(), new_user(), fresh_key());
    let first = batch_for(&[alice, bob], 5);
    let claim = batch_claim(publisher, &key, &first);

    let stored = store
        .repository
        .insert_batch_idempotent(&first, &claim, long_ago())
        .await
        .unwrap();
    assert!(
        matches!(stored, IdempotentBatchInsert::Inserted { ref positions } if positions.len() == 5)
    );

    // The same request again: new ids, same content.
    let again = batch_for(&[alice, bob], 5);
    let replay = store
        .repository
        .insert_batch_idempotent(&again, &claim, long_ago())
        .await
        .unwrap();
    assert_eq!(
        replay,
        IdempotentBatchInsert::AlreadyUsed(BatchIdempotencyRecord {
            fingerprint: claim.fingerprint,
            notifications: first.clone(),
        })
    );
    assert_eq!(count_of(&store, alice).await.unread_count, 3);
    assert_eq!(count_of(&store, bob).await.seq, 2, "the repeat took no seq");
}

async fn concurrent_batches_with_one_key_store_exactly_one(store: Store) {
    const REQUESTS: usize = 8;
    let (publisher, user, key) = (new_user(), new_user(), fresh_key());
    let claim = batch_claim(publisher, &key, &batch_for(&[user], 3));

    let attempts: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let repository = store.repository.clone();
            let claim = claim.clone();
            let batch = batch_for(&[user], 3);
            tokio::spawn(async move {
                let outcome = repository
                    .insert_batch_idempotent(&batch, &claim, long_ago())
                    .await
                    .unwrap();
                (batch, outcome)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut answered = HashSet::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            (batch, IdempotentBatchInsert::Inserted { .. }) => {
                answered.insert(ids(&batch));
                winners.push(batch);
            }
            (_, IdempotentBatchInsert::AlreadyUsed(record)) => {
                answered.insert(ids(&record.notifications));
            }
        }
    }

    assert_eq!(winners.len(), 1, "exactly one batch stores");
    assert_eq!(answered, HashSet::from([ids(&winners[0])]));
    assert_eq!(count_of(&store, user).await.unread_count, 3);
}

async fn a_key_is_shared_by_single_creates_and_batches_and_never_confused(store: Store) {
    let (publisher, user) = (new_user(), new_user());

    // A single create's key, then a batch with it: the batch sees that one
    // notification, with the single create's fingerprint.
    let (single_key, single) = (fresh_key(), notification_for(user, "single"));
    let single_claim = claim_for(publisher, &single_key, &single);
    insert_idempotent(&store, &single, &single_claim, long_ago()).await;
    let batch = batch_for(&[user], 2);
    let as_batch = IdempotencyClaim {
        fingerprint: batch_claim(publisher, &single_key, &batch).fingerprint,
        ..single_claim.clone()
    };
    let outcome = store
        .repository
        .insert_batch_idempotent(&batch, &as_batch, long_ago())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        IdempotentBatchInsert::AlreadyUsed(BatchIdempotencyRecord {
            fingerprint: single_claim.fingerprint,
            notifications: vec![single.clone()],
        })
    );

    // A batch's key, then a single create with it: it sees the batch's first
    // notification, with the batch's fingerprint.
    let batch_key = fresh_key();
    let claim = batch_claim(publisher, &batch_key, &batch);
    store
        .repository
        .insert_batch_idempotent(&batch, &claim, long_ago())
        .await
        .unwrap();
    let late = notification_for(user, "late");
    let outcome = insert_idempotent(
        &store,
        &late,
        &claim_for(publisher, &batch_key, &late),
        long_ago(),
    )
    .await;
    match outcome {
        IdempotentInsert::AlreadyUsed(record) => {
            assert_eq!(record.fingerprint, claim.fingerprint);
            assert_eq!(record.notification, batch[0]);
        }
        other => panic!("expected the batch's record, got {other:?}"),
    }
    assert_eq!(count_of(&store, user).await.unread_count, 3);
}

/// Readall's watermark covers a batch's rows like single creates: a row of a
/// batch created before the read-all (a lower seq) reads as READ at its time,
/// one created after as UNREAD, whether the writes came one after the other
/// or at once (then the writer may put them in one transaction, where the
/// batch's queued rows must be inserted before the read-all's catch-up).
async fn a_read_all_reads_the_batch_rows_created_before_it_and_not_those_after(store: Store) {
    let user = new_user();
    let before = batch_for(&[user], 20);
    store.repository.insert_batch(&before).await.unwrap();
    let read_at = now();
    let all = store.repository.mark_all_read(user, read_at).await.unwrap();
    assert_eq!((all.updated, all.unread_count), (20, 0));
    let after = batch_for(&[user], 5);
    store.repository.insert_batch(&after).await.unwrap();

    for n in &before {
        let seen = store.repository.get(user, n.id()).await.unwrap().unwrap();
        assert_eq!((seen.status(), seen.read_at()), (Read, Some(read_at)));
    }
    for n in &after {
        let seen = store.repository.get(user, n.id()).await.unwrap().unwrap();
        assert_eq!((seen.status(), seen.read_at()), (Unread, None));
    }
    assert_eq!(count_of(&store, user).await.unread_count, 5);
    let unread = list(&store, user, StatusFilter::Only(Unread), None, 100).await;
    assert_eq!(unread.len(), 5);
    assert!(unread.iter().all(|n| after.contains(n)));

    // All at once: a second read-all (over the five) between two batches,
    // in whichever order the writer runs them; each row is READ exactly when
    // its create's seq is below the read-all's.
    let (first, second) = (batch_for(&[user], 30), batch_for(&[user], 30));
    let read_at = now();
    let (one, read_all, two) = tokio::join!(
        store.repository.insert_batch(&first),
        store.repository.mark_all_read(user, read_at),
        store.repository.insert_batch(&second),
    );
    let read_all = read_all.unwrap();
    let created: Vec<(Notification, u64)> = first
        .iter()
        .zip(one.unwrap())
        .chain(second.iter().zip(two.unwrap()))
        .map(|(n, position)| (n.clone(), position.seq))
        .collect();
    let covered = created
        .iter()
        .filter(|(_, seq)| *seq < read_all.seq)
        .count();
    assert_eq!(read_all.updated, (5 + covered) as u64);
    for (n, seq) in &created {
        assert_ne!(*seq, read_all.seq);
        let seen = store.repository.get(user, n.id()).await.unwrap().unwrap();
        if *seq < read_all.seq {
            assert_eq!((seen.status(), seen.read_at()), (Read, Some(read_at)));
        } else {
            assert_eq!((seen.status(), seen.read_at()), (Unread, None));
        }
    }
    let unread_left = (60 - covered) as u64;
    assert_eq!(count_of(&store, user).await.unread_count, unread_left);
    let unread = list(&store, user, StatusFilter::Only(Unread), None, 100).await;
    assert_eq!(unread.len() as u64, unread_left);
}
