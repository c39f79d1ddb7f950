//! Group commit: new notifications that arrive while the database is busy
//! writing are written together, in one transaction, by a writer task.
//!
//! A create used to be one transaction of four statements (`BEGIN`, insert,
//! counter upsert, `COMMIT`), each a round trip to the database (on SQLite, a
//! hand-off to its worker thread and back). Under load those round trips, not
//! the writing, set the ceiling (docs/benchmarks.md, section 5). Here each
//! create joins a queue; a writer task takes everything queued (up to
//! [`MAX_BATCH`]) and writes it with a constant number of statements,
//! whatever the batch size. Alone, a create is a batch of one, with one extra
//! hop to the writer task. Every caller gets its answer after the commit that
//! made its notification durable, so a 201 still means "stored".
//!
//! One bad notification must not fail the others: when a batch of several
//! fails for a reason other than the database being unavailable, each of its
//! notifications is written again on its own and gets its own answer.

use std::sync::Arc;

use async_trait::async_trait;
use notification_domain::{Notification, RepositoryError};
use tokio::sync::{mpsc, oneshot, Mutex};

/// The most notifications one transaction writes.
pub(crate) const MAX_BATCH: usize = 256;

/// How many creates may wait for a writer before callers wait to queue.
const QUEUE_CAPACITY: usize = 4 * MAX_BATCH;

/// Writes a batch of new notifications in one transaction.
#[async_trait]
pub(crate) trait BatchInsert: Send + Sync + 'static {
    /// Stores every notification of `batch` and counts it, all or nothing;
    /// returns each one's unread count right after it, in `batch` order.
    async fn insert_batch(&self, batch: &[Notification]) -> Result<Vec<u64>, RepositoryError>;
}

/// The queue of creates and its writer tasks.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<PendingInsert>,
}

struct PendingInsert {
    notification: Notification,
    answer: oneshot::Sender<Result<u64, RepositoryError>>,
}

impl GroupCommit {
    /// Starts `writers` writer tasks on the current Tokio runtime. They end
    /// when the `GroupCommit` is dropped and the queue is empty.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub(crate) fn start(store: impl BatchInsert, writers: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        // Writers take turns at the receiver: while one writes its batch, the
        // next one gathers what arrives meanwhile.
        let receiver = Arc::new(Mutex::new(receiver));
        let store = Arc::new(store);
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(Arc::clone(&receiver), Arc::clone(&store)));
        }
        Self { queue }
    }

    /// Stores `notification` with whatever else is queued; returns the
    /// user's unread count right after it.
    pub(crate) async fn insert(&self, notification: &Notification) -> Result<u64, RepositoryError> {
        let (answer, answered) = oneshot::channel();
        let pending = PendingInsert {
            notification: notification.clone(),
            answer,
        };
        self.queue.send(pending).await.map_err(|_| writer_gone())?;
        answered.await.map_err(|_| writer_gone())?
    }
}

/// The runtime that ran the writer tasks has shut down.
fn writer_gone() -> RepositoryError {
    RepositoryError::Unavailable("the storage writer has stopped".into())
}

async fn write_batches(
    receiver: Arc<Mutex<mpsc::Receiver<PendingInsert>>>,
    store: Arc<impl BatchInsert>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let received = receiver.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if received == 0 {
            return; // Every sender is gone.
        }
        write_batch(&*store, &mut batch).await;
    }
}

/// Writes `batch`, answers every caller and leaves `batch` empty.
async fn write_batch(store: &impl BatchInsert, batch: &mut Vec<PendingInsert>) {
    // How well creates are grouped under the current load.
    metrics::histogram!("storage_insert_batch_size").record(batch.len() as f64);
    let notifications: Vec<Notification> = batch.iter().map(|p| p.notification.clone()).collect();
    match store.insert_batch(&notifications).await {
        Ok(counts) if counts.len() == batch.len() => {
            for (pending, count) in batch.drain(..).zip(counts) {
                // A caller that stopped waiting has nobody to tell.
                let _ = pending.answer.send(Ok(count));
            }
        }
        Ok(counts) => {
            let message = format!(
                "a batch of {} notifications returned {} unread counts",
                batch.len(),
                counts.len()
            );
            for pending in batch.drain(..) {
                let _ = pending
                    .answer
                    .send(Err(RepositoryError::Corrupt(message.clone())));
            }
        }
        Err(RepositoryError::Unavailable(source)) => {
            // Each would fail the same way (and wait as long) on its own.
            let message = source.to_string();
            for pending in batch.drain(..) {
                let error = RepositoryError::Unavailable(message.clone().into());
                let _ = pending.answer.send(Err(error));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(pending) = batch.pop() {
                let _ = pending.answer.send(Err(error));
            }
        }
        Err(_) => {
            for pending in batch.drain(..) {
                let single = std::slice::from_ref(&pending.notification);
                let answer = store.insert_batch(single).await.and_then(only_count);
                let _ = pending.answer.send(answer);
            }
        }
    }
}

/// The one count of a batch of one.
fn only_count(counts: Vec<u64>) -> Result<u64, RepositoryError> {
    match counts[..] {
        [count] => Ok(count),
        _ => Err(RepositoryError::Corrupt(format!(
            "a batch of 1 notification returned {} unread counts",
            counts.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex as StdMutex;

    use notification_domain::{NotificationDraft, NotificationId, UserId};
    use tokio::sync::Notify;
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

    #[async_trait]
    impl BatchInsert for Arc<Recorder> {
        async fn insert_batch(&self, batch: &[Notification]) -> Result<Vec<u64>, RepositoryError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                self.first_started.notify_one();
                self.release.notified().await;
            }
            let titles: Vec<String> = batch.iter().map(|n| n.title().to_owned()).collect();
            self.batches.lock().unwrap().push(titles.clone());
            if self.down {
                return Err(RepositoryError::Unavailable("connection refused".into()));
            }
            if titles.iter().any(|t| t == "bad") {
                return Err(RepositoryError::Other("constraint".into()));
            }
            Ok((1..=batch.len() as u64).collect())
        }
    }

    /// Queues one insert per title while the writer is held in its first
    /// batch ("first"), then lets it go; returns each title's answer.
    async fn while_busy(
        recorder: &Arc<Recorder>,
        titles: &[&str],
    ) -> Vec<Result<u64, RepositoryError>> {
        let commit = Arc::new(GroupCommit::start(Arc::clone(recorder), 1));
        let first = {
            let commit = Arc::clone(&commit);
            tokio::spawn(async move { commit.insert(&notification("first")).await })
        };
        recorder.first_started.notified().await;
        let queued: Vec<_> = titles
            .iter()
            .map(|title| {
                let commit = Arc::clone(&commit);
                let n = notification(title);
                tokio::spawn(async move { commit.insert(&n).await })
            })
            .collect();
        // Every insert is in the queue once its sender's slot is taken.
        while commit.queue.capacity() > QUEUE_CAPACITY - titles.len() {
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
}
