//! The writer thread of a [`GroupCommit`] (SQLite's kind of writer, see the
//! parent module): one thread that owns its store, sleeps while the queue is
//! empty, is woken by each write queued, and writes one batch at a time.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{write_batch, writer_gone, BatchWrite, GroupCommit, Shared, Writers};
use crate::background::BackgroundTasks;
use crate::storage::write_limits::WriteLimits;

impl GroupCommit {
    /// A queue written by one thread named `name`, tracked by `tasks`, that
    /// owns `store` and writes one batch at a time; the handle stops it.
    pub(crate) fn on_thread(
        name: &str,
        store: impl BatchWrite,
        limits: WriteLimits,
        tasks: &BackgroundTasks,
    ) -> std::io::Result<(Self, WriterThread)> {
        let signals = Arc::new(ThreadSignals::default());
        let commit = Self::with_writers(limits, Writers::Thread(Arc::clone(&signals)));
        let shared = Arc::clone(&commit.shared);
        let shutdown = tasks.token();
        let thread = Arc::clone(&signals);
        tasks.spawn_thread(name, move || {
            write_on_thread(&shared, &thread, store, &shutdown);
        })?;
        Ok((commit, WriterThread(signals)))
    }
}

/// How the writer thread is woken and stopped, and how it tells it ended.
#[derive(Default)]
pub(super) struct ThreadSignals {
    /// A write was queued (a wake-up sent while the thread writes is kept
    /// for its next look at the queue: none is lost).
    pub(super) queued: Notify,
    /// Stop once the queue is empty: the repository was closed or dropped.
    pub(super) stop: CancellationToken,
    /// The thread has ended and dropped its store.
    ended: CancellationToken,
}

/// The writer thread: writes batches as they come until it is told to stop
/// (or shutdown began) and the queue is empty; then refuses what comes later.
///
/// A batch's statements are async only because PostgreSQL's are; on this
/// thread they never wait for anything but the store, so `block_on` runs
/// them to the end without handing them to another thread.
fn write_on_thread(
    shared: &Shared,
    thread: &ThreadSignals,
    store: impl BatchWrite,
    shutdown: &CancellationToken,
) {
    loop {
        let batch = shared.next_batch();
        if !batch.is_empty() {
            // A panic (a bug) fails its batch's callers (their answers are
            // dropped: `writer_gone`), rolls its transaction back, and
            // leaves the thread writing the next batches.
            let written = std::panic::catch_unwind(AssertUnwindSafe(|| {
                futures_executor::block_on(write_batch(&store, batch));
            }));
            if written.is_err() {
                tracing::error!("the storage writer panicked writing a batch");
            }
            continue;
        }
        if thread.stop.is_cancelled() || shutdown.is_cancelled() {
            break;
        }
        futures_executor::block_on(async {
            tokio::select! {
                biased;
                () = thread.stop.cancelled() => {}
                () = shutdown.cancelled() => {}
                () = thread.queued.notified() => {}
            }
        });
    }
    {
        let mut queue = shared.lock_queue();
        shared.queue_places.close();
        // Queued after the last look: nobody will write them.
        for pending in queue.drain(..) {
            let _ = pending.answer.send(Err(writer_gone()));
        }
    }
    // Its connection closes before anyone waiting for the end hears of it.
    drop(store);
    thread.ended.cancel();
}

/// Stops the writer thread of a [`GroupCommit::on_thread`].
pub(crate) struct WriterThread(Arc<ThreadSignals>);

impl WriterThread {
    /// Lets the thread write what is queued, then waits until it has ended
    /// and dropped its store. Writes after this are refused as
    /// `Unavailable`.
    pub(crate) async fn stop(&self) {
        self.0.stop.cancel();
        self.0.ended.cancelled().await;
    }
}

impl Drop for GroupCommit {
    /// Nobody can queue a write any more: the writer thread may end.
    fn drop(&mut self) {
        if let Writers::Thread(thread) = &self.shared.writers {
            thread.stop.cancel();
        }
    }
}
