//! [`BackgroundTasks`]: one lifetime for every task the service runs beside
//! its requests (storage writers and checkpoints, purges, the event bus's
//! subscription, metrics upkeep).
//!
//! Made once at start-up and handed to whatever spawns such a task; at
//! shutdown, after the HTTP server has stopped taking requests,
//! [`BackgroundTasks::shutdown`] cancels them all and waits until every one
//! has ended. Each task watches [`BackgroundTasks::cancelled`] (or a
//! [`CancellationToken`] from [`BackgroundTasks::token`]) and finishes what
//! it owes its callers before it returns.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::task_tracker::TaskTrackerToken;
use tokio_util::task::TaskTracker;

/// The cancellation token and task tracker shared by every background task.
/// Cheap to clone: clones share the token and the tracker.
#[derive(Debug, Clone, Default)]
pub struct BackgroundTasks {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl BackgroundTasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` on the current Tokio runtime, tracked until it ends.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn(task)
    }

    /// Runs `task` on the runtime of `runtime`, tracked until it ends (for a
    /// task that must not run on the caller's runtime, such as an actix
    /// worker's).
    pub fn spawn_on<F>(&self, task: F, runtime: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn_on(task, runtime)
    }

    /// Runs `task` on a thread of its own (for work that blocks, such as a
    /// database connection driven synchronously), tracked until it returns.
    pub fn spawn_thread<F>(&self, name: &str, task: F) -> std::io::Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        let running = self.tracker.token();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _running: TaskTrackerToken = running;
                task();
            })
            .map(drop)
    }

    /// Resolves once shutdown has begun.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    /// Whether shutdown has begun.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// A token cancelled when shutdown begins, for code that outlives a
    /// borrow of `self` (a thread, a struct field).
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Cancels every task and waits until all of them (and any spawned while
    /// this runs) have ended.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn shutdown_cancels_every_task_and_waits_for_them_to_finish() {
        let tasks = BackgroundTasks::new();
        let finished = Arc::new(AtomicBool::new(false));
        let task = {
            let (tasks, finished) = (tasks.clone(), Arc::clone(&finished));
            async move {
                tasks.cancelled().await;
                tokio::task::yield_now().await;
                finished.store(true, Ordering::SeqCst);
            }
        };
        tasks.spawn(task);

        tasks.shutdown().await;

        assert!(finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn shutdown_waits_for_threads_too() {
        let tasks = BackgroundTasks::new();
        let finished = Arc::new(AtomicBool::new(false));
        let (token, done) = (tasks.token(), Arc::clone(&finished));
        tasks
            .spawn_thread("test-thread", move || {
                while !token.is_cancelled() {
                    std::thread::yield_now();
                }
                done.store(true, Ordering::SeqCst);
            })
            .unwrap();

        tasks.shutdown().await;

        assert!(finished.load(Ordering::SeqCst));
    }
}
