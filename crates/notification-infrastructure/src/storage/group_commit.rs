//! Group commit, the one write path: every [`Write`] (creates, status
//! changes, deletes, read-all, purges) joins one queue, and writes that
//! arrive while the database is busy writing are written together, in one
//! transaction (`write_batch`).
//!
//! A create used to be one transaction of four statements (`BEGIN`, insert,
//! counter upsert, `COMMIT`), each a round trip to the database; under load
//! those round trips, not the writing, set the ceiling (figures in
//! `docs/benchmarks/optimisations.md`). Here each write joins a queue; a
//! writer takes everything queued (up to [`MAX_BATCH`]) and writes it with
//! few statements per batch. Every caller gets its answer after the commit
//! that made its write durable, so a 201 still means "stored".
//!
//! Writers come in two kinds ([`Writers`]), both tracked by the service's
//! [`BackgroundTasks`] (so shutdown waits for the batches they are writing):
//!
//! - **Tasks** (PostgreSQL, [`GroupCommit::new`]): started on demand, at most
//!   `writers` at a time, run on the runtime that created the repository (the
//!   server's main Tokio runtime, not an actix worker, whose HTTP and
//!   WebSocket work would delay each of a writer's many wake-ups per batch).
//!   They do not stop on cancellation: each one ends when the queue is empty,
//!   so a write queued at shutdown is still written and answered.
//! - **One thread** (SQLite, [`GroupCommit::on_thread`]): it owns its store
//!   (a connection driven synchronously), sleeps while the queue is empty and
//!   is woken by each write queued, so a create crosses two threads (the
//!   caller's and the writer's) and no statement waits for another thread.
//!   It ends once the queue is empty after shutdown began, or after the
//!   repository was closed or dropped; writes that come later are refused
//!   as `Unavailable` at once.
//!
//! A writer is not the caller's future, so a caller that goes away (its
//! client disconnected) never abandons the others' batch.
//!
//! One bad write must not fail the others: when a batch of several fails for
//! a reason other than the database being unavailable, each of its writes is
//! written again on its own and gets its own answer (a batch create is one
//! write, so it is written again whole, never split into its items). A [`BatchWrite`] is all
//! or nothing (one transaction, committed last), so nothing of a failed batch
//! is stored and writing it again cannot meet its own duplicates.
//!
//! The queue is bounded ([`WriteLimits`]): a write that cannot enter it in
//! time, or whose batch has not started in time, is refused as
//! `Unavailable` (503, retry later) and never written. Once its batch has
//! started, a caller waits for that batch's real outcome: a 503 never stands
//! for something stored.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use notification_domain::RepositoryError;
use tokio::runtime::Handle;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::write::{Write, Written};
use super::write_limits::WriteLimits;
use crate::background::BackgroundTasks;
use writer_thread::ThreadSignals;
pub(crate) use writer_thread::WriterThread;

#[path = "writer_thread.rs"]
mod writer_thread;

/// The most writes one transaction holds.
pub(crate) const MAX_BATCH: usize = 256;

/// Writes a batch in one transaction.
#[async_trait]
pub(crate) trait BatchWrite: Send + Sync + 'static {
    /// Runs every write of `batch`, all or nothing; returns each one's
    /// answer, in `batch` order.
    async fn write_batch(&self, batch: &[Write]) -> Result<Vec<Written>, RepositoryError>;
}

/// The queue of writes and the slots of its writers.
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<VecDeque<PendingWrite>>,
    /// One permit per place in the queue ([`WriteLimits::queued`]); a
    /// pending write holds its own until a batch takes it. Closed when no
    /// writer will ever come again (the writer thread has ended).
    queue_places: Arc<Semaphore>,
    limits: WriteLimits,
    writers: Writers,
}

/// Who writes the batches.
enum Writers {
    /// Tasks started on demand.
    Tasks(TaskWriters),
    /// One thread that owns its store (`writer_thread`).
    Thread(Arc<ThreadSignals>),
}

struct TaskWriters {
    store: Box<dyn BatchWrite>,
    /// What tracks the writers, so shutdown waits for them.
    tasks: BackgroundTasks,
    /// Where writers run: the runtime that created the queue, if any, else
    /// the caller's.
    runtime: Option<Handle>,
    /// One permit per writer that may run at once.
    slots: Arc<Semaphore>,
}

struct PendingWrite {
    write: Write,
    answer: Answer,
    /// Decides, once, between the writer taking it and its caller giving up.
    fate: Arc<Fate>,
    /// Its place in the queue, given back when a batch takes it.
    _place: OwnedSemaphorePermit,
}

/// Whether a queued write was taken into a batch or given up by its caller:
/// whichever comes first wins, exactly once.
#[derive(Default)]
struct Fate(AtomicU8);

impl Fate {
    const QUEUED: u8 = 0;
    const TAKEN: u8 = 1;
    const GIVEN_UP: u8 = 2;

    /// The writer takes it; false when its caller has already given up.
    fn take(&self) -> bool {
        self.settle(Self::TAKEN)
    }

    /// The caller gives up; false when a batch has already taken it.
    fn give_up(&self) -> bool {
        self.settle(Self::GIVEN_UP)
    }

    fn settle(&self, to: u8) -> bool {
        self.0
            .compare_exchange(Self::QUEUED, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// Where a write waits for its answer.
type Answer = oneshot::Sender<Result<Written, RepositoryError>>;

impl GroupCommit {
    /// A queue written by at most `writers` batches at a time, by writer
    /// tasks tracked by `tasks`.
    pub(crate) fn new(
        store: impl BatchWrite,
        writers: usize,
        limits: WriteLimits,
        tasks: &BackgroundTasks,
    ) -> Self {
        Self::with_writers(
            limits,
            Writers::Tasks(TaskWriters {
                store: Box::new(store),
                tasks: tasks.clone(),
                runtime: Handle::try_current().ok(),
                slots: Arc::new(Semaphore::new(writers.max(1))),
            }),
        )
    }

    fn with_writers(limits: WriteLimits, writers: Writers) -> Self {
        Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                queue_places: Arc::new(Semaphore::new(limits.queued.max(1))),
                limits,
                writers,
            }),
        }
    }

    /// Runs `write` with whatever else is queued; returns its answer after
    /// its batch committed. `Unavailable` when the queue stayed full or the
    /// batch did not start within the [`WriteLimits`]: then nothing was
    /// written.
    pub(crate) async fn submit(&self, write: Write) -> Result<Written, RepositoryError> {
        let limits = self.shared.limits;
        let places = Arc::clone(&self.shared.queue_places);
        let place = match tokio::time::timeout(limits.enter_wait, places.acquire_owned()).await {
            Ok(Ok(place)) => place,
            Ok(Err(_closed)) => return Err(writer_gone()),
            Err(_elapsed) => return Err(refused("the write queue is full")),
        };
        let (answer, mut answered) = oneshot::channel();
        let fate = Arc::new(Fate::default());
        {
            let mut queue = self.shared.lock_queue();
            // Checked under the lock the ending writer thread closes the
            // queue under: a write is either refused here or answered by it.
            if self.shared.queue_places.is_closed() {
                return Err(writer_gone());
            }
            queue.push_back(PendingWrite {
                write,
                answer,
                fate: Arc::clone(&fate),
                _place: place,
            });
        }
        // Queued first, then a writer: a writer that is finishing looks at
        // the queue again after giving its slot back (the thread, after a
        // wake-up), so one of the two always takes this write.
        self.shared.wake_writer();
        tokio::select! {
            outcome = &mut answered => return outcome.map_err(|_| writer_gone())?,
            () = tokio::time::sleep(limits.start_wait) => {}
        }
        if fate.give_up() {
            // No batch took it: it will never be written.
            return Err(refused("no writer took the write in time"));
        }
        // Its batch has started: wait for its real outcome, however long.
        answered.await.map_err(|_| writer_gone())?
    }

    /// How many writes wait for a batch (not those being written).
    pub(crate) fn queued_writes(&self) -> usize {
        self.shared.limits.queued.max(1) - self.shared.queue_places.available_permits()
    }
}

/// A write refused because the writers are behind: nothing was stored.
fn refused(why: &str) -> RepositoryError {
    metrics::counter!("storage_writes_refused_total").increment(1);
    RepositoryError::Unavailable(why.to_owned().into())
}

impl Shared {
    fn lock_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<PendingWrite>> {
        // The queue stays consistent whatever a panicking holder did: it only
        // pushes or drains.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Has a write queued just now taken: starts a writer task if one may
    /// run, or wakes the writer thread.
    fn wake_writer(self: &Arc<Self>) {
        let tasks = match &self.writers {
            Writers::Tasks(tasks) => tasks,
            Writers::Thread(thread) => return thread.queued.notify_one(),
        };
        if let Ok(slot) = Arc::clone(&tasks.slots).try_acquire_owned() {
            let writer = write_batches(Writer {
                shared: Arc::clone(self),
                slot: Some(slot),
            });
            match &tasks.runtime {
                Some(runtime) => drop(tasks.tasks.spawn_on(writer, runtime)),
                None => drop(tasks.tasks.spawn(writer)),
            }
        }
    }

    /// Up to [`MAX_BATCH`] queued writes whose callers still wait; each one
    /// taken gives its place in the queue back.
    fn next_batch(&self) -> Vec<PendingWrite> {
        let mut queue = self.lock_queue();
        let mut batch = Vec::with_capacity(queue.len().min(MAX_BATCH));
        while batch.len() < MAX_BATCH {
            let Some(pending) = queue.pop_front() else {
                break;
            };
            if pending.fate.take() {
                batch.push(pending);
            }
        }
        batch
    }
}

/// The writer stopped before answering: it died with the runtime it ran on
/// (shutdown), or the writer thread has ended. Then no new writer runs
/// either, and `submit` fails fast instead of waiting forever.
fn writer_gone() -> RepositoryError {
    RepositoryError::Unavailable("the storage writer has stopped".into())
}

/// A writer task: writes batches until the queue is empty, then gives the
/// slot back.
async fn write_batches(mut writer: Writer) {
    let Writers::Tasks(tasks) = &writer.shared.writers else {
        return; // Only started for writer tasks.
    };
    let (store, slots) = (&*tasks.store, Arc::clone(&tasks.slots));
    loop {
        let batch = writer.shared.next_batch();
        if batch.is_empty() {
            drop(writer.slot.take());
            // A write queued after `next_batch` found no free slot (this one
            // was held); now that it is free, write it or let another do it.
            if writer.shared.lock_queue().is_empty() {
                return;
            }
            match Arc::clone(&slots).try_acquire_owned() {
                Ok(again) => writer.slot = Some(again),
                Err(_) => return, // Another writer has it.
            }
            continue;
        }
        write_batch(store, batch).await;
    }
}

/// A running writer. Dropped while it holds its slot, it was cancelled: its
/// runtime shut down (or refused to start it). Nobody would write what is
/// queued then, so it answers every waiting write instead of leaving it
/// waiting forever.
struct Writer {
    shared: Arc<Shared>,
    slot: Option<OwnedSemaphorePermit>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.slot.is_some() {
            for pending in self.shared.lock_queue().drain(..) {
                let _ = pending.answer.send(Err(writer_gone()));
            }
        }
    }
}

/// Writes `batch` and answers every caller.
async fn write_batch(store: &dyn BatchWrite, batch: Vec<PendingWrite>) {
    // How well writes are grouped under the current load.
    metrics::histogram!("storage_write_batch_size").record(batch.len() as f64);
    let (writes, answers): (Vec<Write>, Vec<Answer>) = batch
        .into_iter()
        .map(|pending| (pending.write, pending.answer))
        .unzip();
    // A caller that stopped waiting has nobody to tell: sends may fail.
    match store.write_batch(&writes).await {
        Ok(written) if written.len() == answers.len() => {
            for (answer, written) in answers.into_iter().zip(written) {
                let _ = answer.send(Ok(written));
            }
        }
        Ok(written) => {
            let message = format!(
                "a batch of {} writes returned {} answers",
                answers.len(),
                written.len()
            );
            for answer in answers {
                let _ = answer.send(Err(RepositoryError::Corrupt(message.clone())));
            }
        }
        Err(RepositoryError::Unavailable(source)) => {
            // Each would fail the same way (and wait as long) on its own.
            let message = source.to_string();
            for answer in answers {
                let error = RepositoryError::Unavailable(message.clone().into());
                let _ = answer.send(Err(error));
            }
        }
        Err(error) if answers.len() == 1 => {
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(Err(error));
            }
        }
        Err(_) => {
            // Nothing of the batch committed: each write on its own.
            for (write, answer) in writes.iter().zip(answers) {
                let single = std::slice::from_ref(write);
                let result = store.write_batch(single).await.and_then(only_answer);
                let _ = answer.send(result);
            }
        }
    }
}

/// The one answer of a batch of one.
fn only_answer(written: Vec<Written>) -> Result<Written, RepositoryError> {
    let returned = written.len();
    let mut written = written.into_iter();
    match (written.next(), written.next()) {
        (Some(only), None) => Ok(only),
        _ => Err(RepositoryError::Corrupt(format!(
            "a batch of 1 write returned {returned} answers"
        ))),
    }
}

#[cfg(test)]
#[path = "group_commit_tests.rs"]
mod tests;
