//! [`Fleet`]: every socket of one worker, opened with bounded concurrency
//! and read until the worker closes them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

use crate::dial::dial;
use crate::node::Node;
use crate::plan::WorkerPlan;
use crate::receiver::{receive, Deliveries, Inbox};
use crate::users::User;

/// How often connection progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Longest wait for every socket to finish its close handshake.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How opening the sockets went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectOutcome {
    pub attempted: u64,
    pub opened: u64,
    pub failed: u64,
    /// Failed attempts by reason (e.g. `upgrade refused: 429 Too Many Requests`).
    pub failures: BTreeMap<String, u64>,
    /// Time from the first attempt to the last result.
    pub seconds: f64,
}

impl ConnectOutcome {
    /// Several workers' outcomes as one (their attempts ran side by side).
    pub fn merge<'a>(parts: impl IntoIterator<Item = &'a ConnectOutcome>) -> Self {
        parts.into_iter().fold(Self::default(), |mut total, part| {
            total.attempted += part.attempted;
            total.opened += part.opened;
            total.failed += part.failed;
            for (reason, count) in &part.failures {
                *total.failures.entry(reason.clone()).or_default() += count;
            }
            total.seconds = total.seconds.max(part.seconds);
            total
        })
    }
}

/// The open sockets of a worker.
pub struct Fleet {
    /// One per open socket.
    pub inboxes: Vec<Arc<Inbox>>,
    /// Open sockets per user of this worker (the devices a notification
    /// for that user should reach).
    pub devices_per_user: Vec<u64>,
    pub deliveries: Arc<Deliveries>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// Opens `plan.devices` sockets per user, `plan.connect_concurrency`
    /// handshakes at a time, printing progress to stderr.
    pub async fn open(
        plan: &WorkerPlan,
        users: Arc<[User]>,
        nodes: Arc<[Node]>,
    ) -> (Self, ConnectOutcome) {
        let started = Instant::now();
        let deliveries = Arc::new(Deliveries::default());
        let (stop, stopped) = watch::channel(false);
        let gate = Arc::new(Semaphore::new(plan.connect_concurrency.max(1)));
        let timeout = Duration::from_secs_f64(plan.connect_timeout_secs.max(0.001));
        let (results, mut arrivals) = mpsc::unbounded_channel();
        let total = users.len() * plan.devices;
        let sources = plan.source_addrs.clone();

        let tasks = (0..total)
            .map(|index| {
                let user = index / plan.devices.max(1);
                let source = sources[index % sources.len().max(1)];
                let (users, nodes, gate) = (users.clone(), nodes.clone(), gate.clone());
                let (deliveries, stopped, results) =
                    (deliveries.clone(), stopped.clone(), results.clone());
                tokio::spawn(async move {
                    let attempt = {
                        // Closed only if the worker is gone; then so are we.
                        let Ok(_permit) = gate.acquire().await else {
                            return;
                        };
                        let owner = &users[user];
                        let node = &nodes[owner.node];
                        match node.ws_url(owner.id) {
                            Ok(url) => dial(node.addr, &url, source, &owner.token, timeout).await,
                            Err(error) => Err(format!("socket URL: {error}")),
                        }
                    };
                    match attempt {
                        Ok(socket) => {
                            let inbox = Arc::new(Inbox::new(user, index));
                            let _ = results.send(Ok(inbox.clone()));
                            receive(socket, &inbox, &deliveries, stopped).await;
                        }
                        Err(reason) => {
                            let _ = results.send(Err(reason));
                        }
                    }
                })
            })
            .collect();
        drop(results);

        let mut outcome = ConnectOutcome {
            attempted: total as u64,
            ..ConnectOutcome::default()
        };
        let mut inboxes = Vec::with_capacity(total);
        let mut devices_per_user = vec![0u64; users.len()];
        let mut progress = tokio::time::interval(PROGRESS_EVERY);
        progress.tick().await;
        loop {
            tokio::select! {
                arrival = arrivals.recv() => match arrival {
                    Some(Ok(inbox)) => {
                        devices_per_user[inbox.user] += 1;
                        inboxes.push(inbox);
                        outcome.opened += 1;
                    }
                    Some(Err(reason)) => {
                        *outcome.failures.entry(reason).or_default() += 1;
                        outcome.failed += 1;
                    }
                    None => break,
                },
                _ = progress.tick() => {
                    eprintln!("[w{}] sockets: {}/{total} open, {} failed", plan.worker, outcome.opened, outcome.failed);
                }
            }
            if outcome.opened + outcome.failed == total as u64 {
                break;
            }
        }
        outcome.seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "[w{}] sockets: {}/{total} open, {} failed, in {:.1} s",
            plan.worker, outcome.opened, outcome.failed, outcome.seconds
        );
        let fleet = Self {
            inboxes,
            devices_per_user,
            deliveries,
            stop,
            tasks,
        };
        (fleet, outcome)
    }

    /// Closes every socket (Close frame, then the server's answer), waiting
    /// at most [`CLOSE_TIMEOUT`] in all.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(CLOSE_TIMEOUT, all).await.is_err() {
            eprintln!("warning: some sockets did not finish closing in {CLOSE_TIMEOUT:?}");
        }
    }
}
