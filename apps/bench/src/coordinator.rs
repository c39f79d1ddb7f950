//! The coordinator: starts the worker processes, moves them through the
//! phases together, samples the server between phases, and merges the
//! workers' results into one [`Report`].
//!
//! Phases: sample the server (baseline) → every worker opens its sockets →
//! settle → sample (connected) → idle: hold, sample | load: publish, drain,
//! sample → every worker closes.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::cli::{CommonArgs, LoadArgs};
use crate::fleet::ConnectOutcome;
use crate::link::{Command, WorkerEvent, WorkerProcess};
use crate::load::LoadOutcome;
use crate::node::Node;
use crate::plan::split;
use crate::procfs::{self, ProcessSample};
use crate::report::{End, LoadReport, Machine, Report, RunSettings, ServerReport};

/// Longest wait for workers to open their sockets.
const CONNECT_PHASE_LIMIT: Duration = Duration::from_secs(600);
/// Margin over a load phase's own bounds (schedule, request timeout, drain).
const LOAD_PHASE_MARGIN: Duration = Duration::from_secs(60);
/// Longest wait for workers to close their sockets and exit.
const CLOSE_PHASE_LIMIT: Duration = Duration::from_secs(60);

/// Which scenario to run.
pub enum Scenario<'a> {
    Idle { hold_secs: f64 },
    Load(&'a LoadArgs),
}

pub async fn run(
    common: &CommonArgs,
    scenario: Scenario<'_>,
    open_files_soft_limit: u64,
) -> anyhow::Result<Report> {
    let load_args = match scenario {
        Scenario::Load(args) => Some(args),
        Scenario::Idle { .. } => None,
    };
    // Read before anything starts: the load average after the run would
    // mostly show the run itself.
    let machine = Machine::describe(open_files_soft_limit);
    let plans = split(common, load_args)?;
    check_servers(common).await?;

    let pids = common.server_pids.clone();
    let baseline = sample_servers(&pids)?;
    let mut workers = Vec::with_capacity(plans.len());
    for plan in &plans {
        workers.push(WorkerProcess::spawn(plan).await?);
    }

    let mut connects = Vec::with_capacity(workers.len());
    for worker in &mut workers {
        match worker.next_event(CONNECT_PHASE_LIMIT).await? {
            WorkerEvent::Connected { outcome } => connects.push(outcome),
            other => bail!(
                "worker {}: expected `connected`, got {other:?}",
                worker.worker
            ),
        }
    }
    let connect = ConnectOutcome::merge(&connects);
    eprintln!(
        "all sockets: {} open, {} failed; settling for {:.1} s",
        connect.opened, connect.failed, common.settle
    );
    tokio::time::sleep(Duration::from_secs_f64(common.settle.max(0.0))).await;
    let connected = sample_servers(&pids)?;

    let (end, load) = match scenario {
        Scenario::Idle { hold_secs } => {
            let held = if hold_secs > 0.0 {
                eprintln!("holding the sockets idle for {hold_secs:.1} s");
                tokio::time::sleep(Duration::from_secs_f64(hold_secs)).await;
                sample_servers(&pids)?
            } else {
                None
            };
            (End::Held(held), None)
        }
        Scenario::Load(args) => {
            for worker in &mut workers {
                worker.send(Command::Load).await?;
            }
            let limit = Duration::from_secs_f64(
                (args.duration + args.request_timeout + args.drain_timeout).max(0.0),
            ) + LOAD_PHASE_MARGIN;
            let mut outcomes: Vec<LoadOutcome> = Vec::with_capacity(workers.len());
            for worker in &mut workers {
                match worker.next_event(limit).await? {
                    WorkerEvent::Loaded { outcome } => outcomes.push(*outcome),
                    other => bail!("worker {}: expected `loaded`, got {other:?}", worker.worker),
                }
            }
            let after = sample_servers(&pids)?.unwrap_or_default();
            (End::Loaded(after), Some(LoadReport::merge(&outcomes)))
        }
    };

    let mut generator = Vec::with_capacity(workers.len());
    let mut lost_sockets = BTreeMap::new();
    for worker in &mut workers {
        worker.send(Command::Close).await?;
    }
    for mut worker in workers {
        match worker.next_event(CLOSE_PHASE_LIMIT).await? {
            WorkerEvent::Closed {
                process,
                lost_sockets: lost,
            } => {
                generator.push(process);
                for (reason, count) in lost {
                    *lost_sockets.entry(reason).or_default() += count;
                }
            }
            other => bail!("worker {}: expected `closed`, got {other:?}", worker.worker),
        }
        worker.wait(CLOSE_PHASE_LIMIT).await?;
    }

    let server = match (baseline, connected) {
        (Some(baseline), Some(connected)) => Some(ServerReport::new(
            pids,
            baseline,
            connected,
            end,
            connect.opened,
            load.as_ref(),
        )),
        _ => None,
    };
    Ok(Report {
        scenario: if load.is_some() { "load" } else { "idle" },
        settings: RunSettings {
            users: common.users,
            devices: common.devices,
            sockets: common.sockets(),
            processes: plans.len(),
            nodes: common.urls.clone(),
            target: common.target,
            source_addrs_per_process: common.source_addrs,
            connect_concurrency: common.connect_concurrency,
            settle_secs: common.settle,
            hold_secs: match scenario {
                Scenario::Idle { hold_secs } => Some(hold_secs),
                Scenario::Load(_) => None,
            },
            rate_per_sec: load_args.map(|a| a.rate),
            duration_secs: load_args.map(|a| a.duration),
            max_in_flight_per_process: load_args.map(|a| a.max_in_flight),
        },
        machine,
        connect,
        server,
        load,
        lost_sockets,
        load_generator: ProcessSample::sum(&generator),
    })
}

/// Fails early, with the URL, when a node does not answer `/healthz`.
async fn check_servers(common: &CommonArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;
    for url in &common.urls {
        let node = Node::resolve(url, common.target)?;
        let response = client
            .get(node.health_url.clone())
            .send()
            .await
            .with_context(|| format!("server at {url} is not answering"))?;
        if !response.status().is_success() {
            bail!("server at {url}: /healthz answered {}", response.status());
        }
    }
    Ok(())
}

/// The server nodes' footprint summed, or `None` without `--server-pid`.
fn sample_servers(pids: &[u32]) -> anyhow::Result<Option<ProcessSample>> {
    if pids.is_empty() {
        return Ok(None);
    }
    let samples = pids
        .iter()
        .map(|&pid| procfs::sample(pid).with_context(|| format!("reading /proc/{pid}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(ProcessSample::sum(&samples)))
}
