//! The group-commit queue driven by a recording store: batching, the
//! row-by-row retry, and the bounds of `WriteLimits` (with tokio's clock
//! paused where deadlines pass).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex as StdMutex;

use futures_util::FutureExt;
use notification_domain::{InboxPosition, Notification, NotificationDraft, NotificationId, UserId};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::*;

fn notification(title: &str) -> Notification {
    let user = UserId::from_uuid(Uuid::new_v4());
    let draft = NotificationDraft::parse(user, title, "body", None, None).unwrap();
    Notification::new(draft, NotificationId::new(), notification_domain::now())
}

/// Records every batch; fails a batch holding a title "bad", or every
/// batch while `down`; the first batch waits for `release`.
#[derive(Default)]
struct Recorder {
    batches: StdMutex<Vec<Vec<String>>>,
    first_started: Notify,
    release: Notify,
    calls: AtomicUsize,
    down: bool,
}

/// A create through the queue, answered with its unread count.
async fn create(commit: &GroupCommit, notification: &Notification) -> Result<u64, RepositoryError> {
    match commit.submit(Write::Create(notification.clone())).await? {
        Written::Created(position) => Ok(position.unread_count),
        other => Err(crate::storage::write::mismatched(&other)),
    }
}

/// The title of a create (the recorder sees nothing else).
fn title_of(write: &Write) -> String {
    match write {
        Write::Create(notification) => notification.title().to_owned(),
        other => format!("{other:?}"),
    }
}

#[async_trait]
impl BatchWrite for Arc<Recorder> {
    async fn write_batch(&self, batch: &[Write]) -> Result<Vec<Written>, RepositoryError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            self.first_started.notify_one();
            self.release.notified().await;
        }
        let titles: Vec<String> = batch.iter().map(title_of).collect();
        self.batches.lock().unwrap().push(titles.clone());
        if self.down {
            return Err(RepositoryError::Unavailable("connection refused".into()));
        }
        if titles.iter().any(|t| t == "bad") {
            return Err(RepositoryError::Other("constraint".into()));
        }
        Ok((1..=batch.len() as u64)
            .map(|count| {
                Written::Created(InboxPosition {
                    seq: count,
                    unread_count: count,
                })
            })
            .collect())
    }
}

/// Queues one insert per title while the writer is held in its first
/// batch ("first"), then lets it go; returns each title's answer.
async fn while_busy(
    recorder: &Arc<Recorder>,
    titles: &[&str],
) -> Vec<Result<u64, RepositoryError>> {
    let commit = Arc::new(GroupCommit::new(
        Arc::clone(recorder),
        1,
        WriteLimits::default(),
        &BackgroundTasks::new(),
    ));
    let first = {
        let commit = Arc::clone(&commit);
        tokio::spawn(async move { create(&commit, &notification("first")).await })
    };
    recorder.first_started.notified().await;
    let queued: Vec<_> = titles
        .iter()
        .map(|title| {
            let commit = Arc::clone(&commit);
            let n = notification(title);
            tokio::spawn(async move { create(&commit, &n).await })
        })
        .collect();
    while commit.shared.lock_queue().len() < titles.len() {
        tokio::task::yield_now().await;
    }
    recorder.release.notify_one();
    first.await.unwrap().ok();
    let mut answers = Vec::new();
    for task in queued {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn creates_queued_while_the_writer_is_busy_are_written_in_one_batch() {
    let recorder = Arc::new(Recorder::default());
    let answers = while_busy(&recorder, &["a", "b", "c"]).await;
    assert_eq!(
        *recorder.batches.lock().unwrap(),
        vec![vec!["first"], vec!["a", "b", "c"]]
    );
    let counts: Vec<u64> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(counts, vec![1, 2, 3]);
}

#[tokio::test]
async fn a_failing_batch_is_written_again_one_by_one_so_only_the_bad_one_fails() {
    let recorder = Arc::new(Recorder::default());
    let answers = while_busy(&recorder, &["a", "bad", "c"]).await;
    assert_eq!(
        *recorder.batches.lock().unwrap(),
        vec![
            vec!["first"],
            vec!["a", "bad", "c"],
            vec!["a"],
            vec!["bad"],
            vec!["c"]
        ]
    );
    assert!(matches!(answers[0], Ok(1)));
    assert!(matches!(answers[1], Err(RepositoryError::Other(_))));
    assert!(matches!(answers[2], Ok(1)));
}

#[test]
fn a_queue_whose_runtime_is_gone_fails_fast_instead_of_waiting_forever() {
    let recorder = Arc::new(Recorder::default());
    recorder.release.notify_one();
    let first = tokio::runtime::Runtime::new().unwrap();
    let commit = first.block_on(async {
        GroupCommit::new(
            Arc::clone(&recorder),
            1,
            WriteLimits::default(),
            &BackgroundTasks::new(),
        )
    });
    drop(first);

    let second = tokio::runtime::Runtime::new().unwrap();
    let answer = second.block_on(create(&commit, &notification("late")));
    assert!(matches!(answer, Err(RepositoryError::Unavailable(_))));
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unavailable_database_fails_the_whole_batch_at_once() {
    let recorder = Arc::new(Recorder {
        down: true,
        ..Recorder::default()
    });
    let answers = while_busy(&recorder, &["a", "b", "c"]).await;
    for answer in answers {
        assert!(matches!(answer, Err(RepositoryError::Unavailable(_))));
    }
    // Not written again one by one: each would wait out the same outage.
    assert_eq!(
        *recorder.batches.lock().unwrap(),
        vec![vec!["first"], vec!["a", "b", "c"]]
    );
}

/// A queue of `queued` places whose writer is held in a first batch
/// ("first"), started but not yet written.
async fn held(
    recorder: &Arc<Recorder>,
    queued: usize,
) -> (Arc<GroupCommit>, JoinHandle<Result<u64, RepositoryError>>) {
    let limits = WriteLimits {
        queued,
        ..WriteLimits::default()
    };
    let commit = Arc::new(GroupCommit::new(
        Arc::clone(recorder),
        1,
        limits,
        &BackgroundTasks::new(),
    ));
    let first = spawn_insert(&commit, "first");
    recorder.first_started.notified().await;
    (commit, first)
}

fn spawn_insert(
    commit: &Arc<GroupCommit>,
    title: &str,
) -> JoinHandle<Result<u64, RepositoryError>> {
    let commit = Arc::clone(commit);
    let n = notification(title);
    tokio::spawn(async move { create(&commit, &n).await })
}

// Paused time: the runtime jumps to the next deadline whenever every
// task waits, so the deadlines pass without the test sleeping.

#[tokio::test(start_paused = true)]
async fn a_write_that_cannot_enter_the_full_queue_in_time_is_refused_and_never_written() {
    let recorder = Arc::new(Recorder::default());
    let (commit, first) = held(&recorder, 2).await;
    let queued = [spawn_insert(&commit, "a"), spawn_insert(&commit, "b")];
    while commit.queued_writes() < 2 {
        tokio::task::yield_now().await;
    }

    let refused = create(&commit, &notification("refused")).await;

    assert!(matches!(refused, Err(RepositoryError::Unavailable(_))));
    recorder.release.notify_one();
    assert!(first.await.unwrap().is_ok());
    for task in queued {
        assert!(task.await.unwrap().is_ok(), "the queued writes go on");
    }
    assert_eq!(
        *recorder.batches.lock().unwrap(),
        vec![vec!["first"], vec!["a", "b"]]
    );
    assert_eq!(commit.queued_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_queued_write_whose_batch_does_not_start_in_time_is_refused_and_never_written() {
    let recorder = Arc::new(Recorder::default());
    let (commit, first) = held(&recorder, 8).await;

    let late = create(&commit, &notification("late")).await;

    assert!(matches!(late, Err(RepositoryError::Unavailable(_))));
    recorder.release.notify_one();
    assert!(first.await.unwrap().is_ok());
    // The writer has looked at the queue again and dropped the late one.
    while commit.queued_writes() > 0 {
        tokio::task::yield_now().await;
    }
    assert_eq!(*recorder.batches.lock().unwrap(), vec![vec!["first"]]);
}

#[tokio::test(start_paused = true)]
async fn a_write_whose_batch_started_gets_its_real_outcome_however_long_it_takes() {
    let recorder = Arc::new(Recorder::default());
    let (_commit, first) = held(&recorder, 8).await;

    // Far past every deadline while its batch is being written.
    tokio::time::sleep(WriteLimits::default().start_wait * 3).await;
    recorder.release.notify_one();

    assert_eq!(first.await.unwrap().unwrap(), 1);
}

#[tokio::test]
async fn shutdown_waits_until_a_write_queued_before_it_is_answered() {
    let recorder = Arc::new(Recorder::default());
    let tasks = BackgroundTasks::new();
    let commit = Arc::new(GroupCommit::new(
        Arc::clone(&recorder),
        1,
        WriteLimits::default(),
        &tasks,
    ));
    let first = spawn_insert(&commit, "first");
    recorder.first_started.notified().await;
    let queued = spawn_insert(&commit, "queued at shutdown");
    while commit.queued_writes() < 1 {
        tokio::task::yield_now().await;
    }

    let shutdown = tasks.shutdown();
    tokio::pin!(shutdown);
    // Polled once: the writer is still held in its first batch.
    assert!((&mut shutdown).now_or_never().is_none());
    recorder.release.notify_one();
    shutdown.await;

    // The writer was tracked and ignores cancellation: by the time shutdown
    // returned, it had written both, the one queued while it was busy too.
    assert_eq!(
        *recorder.batches.lock().unwrap(),
        vec![vec!["first"], vec!["queued at shutdown"]]
    );
    assert!(matches!(first.await.unwrap(), Ok(1)));
    assert!(matches!(queued.await.unwrap(), Ok(1)));
}

// ---- the writer thread (SQLite's kind of writer) ---------------------------

/// A queue written by a thread of its own.
fn on_thread(
    recorder: &Arc<Recorder>,
    tasks: &BackgroundTasks,
) -> (Arc<GroupCommit>, WriterThread) {
    let (commit, thread) = GroupCommit::on_thread(
        "test-writer",
        Arc::clone(recorder),
        WriteLimits::default(),
        tasks,
    )
    .unwrap();
    (Arc::new(commit), thread)
}

#[tokio::test]
async fn the_writer_thread_writes_what_was_queued_while_it_was_busy_in_one_batch() {
    let recorder = Arc::new(Recorder::default());
    let (commit, _thread) = on_thread(&recorder, &BackgroundTasks::new());
    let first = spawn_insert(&commit, "first");
    recorder.first_started.notified().await;
    let queued = [spawn_insert(&commit, "a"), spawn_insert(&commit, "b")];
    while commit.queued_writes() < 2 {
        tokio::task::yield_now().await;
    }

    recorder.release.notify_one();

    assert_eq!(first.await.unwrap().unwrap(), 1);
    let counts: Vec<u64> = futures_util::future::join_all(queued)
        .await
        .into_iter()
        .map(|answer| answer.unwrap().unwrap())
        .collect();
    assert_eq!(counts, [1, 2]);
    assert_eq!(
        *recorder.batches.lock().unwrap(),
        vec![vec!["first"], vec!["a", "b"]]
    );
}

#[tokio::test]
async fn a_stopped_writer_thread_wrote_what_was_queued_and_refuses_later_writes_at_once() {
    let recorder = Arc::new(Recorder::default());
    let (commit, thread) = on_thread(&recorder, &BackgroundTasks::new());
    let first = spawn_insert(&commit, "first");
    recorder.first_started.notified().await;
    let queued = spawn_insert(&commit, "queued before the stop");
    while commit.queued_writes() < 1 {
        tokio::task::yield_now().await;
    }

    let stop = thread.stop();
    tokio::pin!(stop);
    assert!(
        (&mut stop).now_or_never().is_none(),
        "the batch is not written yet"
    );
    recorder.release.notify_one();
    stop.await;

    assert!(first.await.unwrap().is_ok());
    assert!(queued.await.unwrap().is_ok());
    // Refused before its start deadline could pass: nobody writes any more.
    let late = tokio::time::timeout(
        WriteLimits::default().start_wait / 2,
        create(&commit, &notification("late")),
    )
    .await;
    assert!(matches!(late, Ok(Err(RepositoryError::Unavailable(_)))));
    assert_eq!(recorder.batches.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn shutdown_waits_for_the_writer_thread_to_answer_what_was_queued() {
    let recorder = Arc::new(Recorder::default());
    let tasks = BackgroundTasks::new();
    let (commit, _thread) = on_thread(&recorder, &tasks);
    let first = spawn_insert(&commit, "first");
    recorder.first_started.notified().await;
    let queued = spawn_insert(&commit, "queued at shutdown");
    while commit.queued_writes() < 1 {
        tokio::task::yield_now().await;
    }

    let shutdown = tasks.shutdown();
    tokio::pin!(shutdown);
    assert!((&mut shutdown).now_or_never().is_none());
    recorder.release.notify_one();
    shutdown.await;

    assert!(matches!(first.await.unwrap(), Ok(1)));
    assert!(matches!(queued.await.unwrap(), Ok(1)));
}

/// Panics on a batch holding a title "panic"; else records it.
struct Panicking(Arc<Recorder>);

#[async_trait]
impl BatchWrite for Panicking {
    async fn write_batch(&self, batch: &[Write]) -> Result<Vec<Written>, RepositoryError> {
        if batch.iter().any(|write| title_of(write) == "panic") {
            panic!("a bug in the writer");
        }
        self.0.write_batch(batch).await
    }
}

#[tokio::test]
async fn a_panicking_batch_fails_its_callers_and_the_writer_thread_goes_on() {
    let recorder = Arc::new(Recorder::default());
    recorder.release.notify_one();
    let (commit, _thread) = GroupCommit::on_thread(
        "test-writer",
        Panicking(recorder),
        WriteLimits::default(),
        &BackgroundTasks::new(),
    )
    .unwrap();

    let failed = create(&commit, &notification("panic")).await;
    let next = create(&commit, &notification("next")).await;

    assert!(matches!(failed, Err(RepositoryError::Unavailable(_))));
    assert_eq!(next.unwrap(), 1);
}
