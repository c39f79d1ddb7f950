//! The line protocol between the coordinator and its worker processes.
//!
//! The coordinator writes the [`WorkerPlan`] as the first line of a worker's
//! stdin, then one [`Command`] per line; the worker answers each phase with
//! one [`WorkerEvent`] per line on stdout. Progress goes to stderr. A worker
//! whose stdin closes closes its sockets and exits, so no run outlives its
//! coordinator.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command as Process};

use crate::fleet::ConnectOutcome;
use crate::load::LoadOutcome;
use crate::plan::WorkerPlan;
use crate::procfs::ProcessSample;

/// Coordinator → worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Run the load phase of the plan.
    Load,
    /// Close the sockets and exit.
    Close,
}

impl Command {
    pub fn as_line(self) -> &'static str {
        match self {
            Self::Load => "load\n",
            Self::Close => "close\n",
        }
    }

    /// `None` for anything else, which the worker treats as `close`.
    pub fn parse(line: &str) -> Option<Self> {
        match line.trim() {
            "load" => Some(Self::Load),
            "close" => Some(Self::Close),
            _ => None,
        }
    }
}

/// Worker → coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkerEvent {
    Connected {
        outcome: ConnectOutcome,
    },
    Loaded {
        outcome: Box<LoadOutcome>,
    },
    /// The worker's own footprint, sampled with its sockets still open, and
    /// the sockets the server ended before the worker closed them, by reason.
    Closed {
        process: ProcessSample,
        lost_sockets: BTreeMap<String, u64>,
    },
}

/// One worker process, as the coordinator drives it.
pub struct WorkerProcess {
    pub worker: usize,
    child: Child,
    stdin: ChildStdin,
    events: Lines<BufReader<ChildStdout>>,
}

impl WorkerProcess {
    /// Starts `notification-bench worker` (this same executable) and hands it `plan`.
    pub async fn spawn(plan: &WorkerPlan) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating this executable")?;
        let mut child = Process::new(exe)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting a worker process")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("worker {}: no pipes", plan.worker);
        };
        let mut worker = Self {
            worker: plan.worker,
            child,
            stdin,
            events: BufReader::new(stdout).lines(),
        };
        let mut line = serde_json::to_string(plan).context("serializing the plan")?;
        line.push('\n');
        worker.write(&line).await?;
        Ok(worker)
    }

    pub async fn send(&mut self, command: Command) -> anyhow::Result<()> {
        self.write(command.as_line()).await
    }

    async fn write(&mut self, line: &str) -> anyhow::Result<()> {
        self.stdin
            .write_all(line.as_bytes())
            .await
            .with_context(|| format!("worker {} stopped listening", self.worker))?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// The next event, within `limit`.
    pub async fn next_event(&mut self, limit: Duration) -> anyhow::Result<WorkerEvent> {
        let line = tokio::time::timeout(limit, self.events.next_line())
            .await
            .map_err(|_| anyhow!("worker {} said nothing for {limit:?}", self.worker))?
            .with_context(|| format!("reading worker {}", self.worker))?
            .ok_or_else(|| anyhow!("worker {} exited early (see its errors above)", self.worker))?;
        serde_json::from_str(&line).with_context(|| format!("worker {} sent {line:?}", self.worker))
    }

    /// Waits for the process to exit (it does once it has sent `Closed`).
    pub async fn wait(mut self, limit: Duration) -> anyhow::Result<()> {
        drop(self.stdin);
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    bail!("worker {} exited with {status}", self.worker);
                }
                Ok(())
            }
            Err(_) => {
                self.child.kill().await.ok();
                bail!("worker {} did not exit in {limit:?}; killed", self.worker)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_and_anything_else_is_not_one() {
        for command in [Command::Load, Command::Close] {
            assert_eq!(Command::parse(command.as_line()), Some(command));
        }
        assert_eq!(Command::parse("dance\n"), None);
    }

    #[test]
    fn events_are_one_json_line_each() {
        let event = WorkerEvent::Connected {
            outcome: ConnectOutcome {
                attempted: 2,
                opened: 1,
                failed: 1,
                ..ConnectOutcome::default()
            },
        };
        let line = serde_json::to_string(&event).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.starts_with(r#"{"event":"connected""#));
        assert_eq!(serde_json::from_str::<WorkerEvent>(&line).unwrap(), event);
    }
}
