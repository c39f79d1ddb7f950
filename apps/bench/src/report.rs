//! [`Report`]: the result of a run, as JSON (`--json`, `--output`) and as a
//! readable summary.

use std::collections::BTreeMap;
use std::fmt::{self, Display};

use serde::Serialize;

use crate::fleet::ConnectOutcome;
use crate::latency::{LatencySummary, Recorded};
use crate::ledger::PublishCounts;
use crate::load::LoadOutcome;
use crate::node::Target;
use crate::procfs::ProcessSample;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `idle` or `load`.
    pub scenario: &'static str,
    pub settings: RunSettings,
    pub machine: Machine,
    pub connect: ConnectOutcome,
    /// Present when `--server-pid` was given.
    pub server: Option<ServerReport>,
    /// Present for the `load` scenario.
    pub load: Option<LoadReport>,
    /// Sockets the server ended before the tool closed them, by reason.
    pub lost_sockets: BTreeMap<String, u64>,
    /// The load generator's own processes (summed), with the sockets open.
    pub load_generator: ProcessSample,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSettings {
    pub users: usize,
    pub devices: usize,
    pub sockets: usize,
    pub processes: usize,
    pub nodes: Vec<String>,
    pub target: Target,
    pub source_addrs_per_process: usize,
    pub connect_concurrency: usize,
    pub settle_secs: f64,
    pub hold_secs: Option<f64>,
    pub rate_per_sec: Option<f64>,
    pub duration_secs: Option<f64>,
    pub max_in_flight_per_process: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub kernel: String,
    /// `/proc/loadavg` at the start: other work on the machine skews results.
    pub load_average_at_start: String,
    pub open_files_soft_limit: u64,
}

impl Machine {
    pub fn describe(open_files_soft_limit: u64) -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        Self {
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            kernel: read("/proc/sys/kernel/osrelease"),
            load_average_at_start: read("/proc/loadavg"),
            open_files_soft_limit,
        }
    }
}

/// The server's footprint, from `/proc` (summed over its nodes).
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub pids: Vec<u32>,
    /// Before any socket was opened.
    pub baseline: ProcessSample,
    /// Every socket open and idle, after the settle period.
    pub connected: ProcessSample,
    /// Idle scenario: after `--hold` more seconds.
    pub held: Option<ProcessSample>,
    /// Load scenario: after the last delivery, sockets still open.
    pub after_load: Option<ProcessSample>,
    /// (connected − baseline) RSS / open sockets.
    pub rss_per_socket_bytes: Option<f64>,
    /// (held or after-load − baseline) RSS / open sockets.
    pub rss_per_socket_at_end_bytes: Option<f64>,
    /// CPU seconds the server used from "connected" to "after load".
    pub load_cpu_seconds: Option<f64>,
    /// Those CPU seconds per delivered frame (µs).
    pub cpu_us_per_delivery: Option<f64>,
    /// Those CPU seconds per accepted create (µs).
    pub cpu_us_per_create: Option<f64>,
}

impl ServerReport {
    pub fn new(
        pids: Vec<u32>,
        baseline: ProcessSample,
        connected: ProcessSample,
        end: End,
        sockets: u64,
        load: Option<&LoadReport>,
    ) -> Self {
        let per_socket = |sample: &ProcessSample| {
            (sockets > 0)
                .then(|| (sample.rss_bytes as f64 - baseline.rss_bytes as f64) / sockets as f64)
        };
        let (held, after_load) = match end {
            End::Held(sample) => (sample, None),
            End::Loaded(sample) => (None, Some(sample)),
        };
        let end_sample = held.or(after_load);
        let load_cpu_seconds = after_load.map(|after| after.cpu_seconds - connected.cpu_seconds);
        let per = |count: u64| {
            load_cpu_seconds
                .filter(|_| count > 0)
                .map(|cpu| cpu * 1e6 / count as f64)
        };
        Self {
            pids,
            rss_per_socket_bytes: per_socket(&connected),
            rss_per_socket_at_end_bytes: end_sample.as_ref().and_then(per_socket),
            cpu_us_per_delivery: load.and_then(|l| per(l.delivered)),
            cpu_us_per_create: load.and_then(|l| per(l.publish.accepted)),
            load_cpu_seconds,
            baseline,
            connected,
            held,
            after_load,
        }
    }
}

/// The last server sample of a scenario.
pub enum End {
    Held(Option<ProcessSample>),
    Loaded(ProcessSample),
}

/// The load phase, all workers together.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub publish: PublishCounts,
    pub publish_seconds: f64,
    /// Accepted creates per second of the schedule.
    pub creates_per_sec: f64,
    /// Delivered frames per second of the schedule.
    pub deliveries_per_sec: f64,
    pub drain_seconds: f64,
    pub expected: u64,
    pub delivered: u64,
    pub missing: u64,
    pub duplicated: u64,
    pub unexpected: u64,
    pub unparsed: u64,
    pub other_messages: u64,
    /// Request sent → frame received on each socket (first arrivals).
    pub latency: LatencySummary,
    /// Request sent → 201 read.
    pub create_latency: LatencySummary,
    /// How late requests left compared with their slot (the tool's own lag).
    pub schedule_lag: LatencySummary,
}

impl LoadReport {
    pub fn merge(parts: &[LoadOutcome]) -> Self {
        let mut publish = PublishCounts::default();
        for part in parts {
            let p = &part.publish;
            publish.scheduled += p.scheduled;
            publish.accepted += p.accepted;
            publish.failed += p.failed;
            publish.skipped += p.skipped;
            publish.in_flight += p.in_flight;
            for (reason, count) in &p.failures {
                *publish.failures.entry(reason.clone()).or_default() += count;
            }
        }
        let sum = |f: fn(&LoadOutcome) -> u64| parts.iter().map(f).sum::<u64>();
        let max = |f: fn(&LoadOutcome) -> f64| parts.iter().map(f).fold(0.0, f64::max);
        let summary = |f: fn(&LoadOutcome) -> &Recorded| {
            LatencySummary::from(&Recorded::merge(parts.iter().map(f)))
        };
        let publish_seconds = max(|p| p.publish_seconds);
        let rate = |count: u64| {
            if publish_seconds > 0.0 {
                count as f64 / publish_seconds
            } else {
                0.0
            }
        };
        let delivered = sum(|p| p.reconciled.delivered);
        Self {
            creates_per_sec: rate(publish.accepted),
            deliveries_per_sec: rate(delivered),
            publish,
            publish_seconds,
            drain_seconds: max(|p| p.drain_seconds),
            expected: sum(|p| p.reconciled.expected),
            delivered,
            missing: sum(|p| p.reconciled.missing),
            duplicated: sum(|p| p.duplicated),
            unexpected: sum(|p| p.reconciled.unexpected),
            unparsed: sum(|p| p.unparsed),
            other_messages: sum(|p| p.other_messages),
            latency: summary(|p| &p.latency),
            create_latency: summary(|p| &p.create_latency),
            schedule_lag: summary(|p| &p.schedule_lag),
        }
    }
}

/// Bytes as KiB or MiB.
struct Size(f64);

impl Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.abs() >= 1024.0 * 1024.0 {
            write!(f, "{:.1} MiB", self.0 / (1024.0 * 1024.0))
        } else {
            write!(f, "{:.2} KiB", self.0 / 1024.0)
        }
    }
}

fn percentiles(s: &LatencySummary) -> String {
    format!(
        "p50 {:.2} ms, p90 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2} (n = {})",
        s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms, s.count
    )
}

fn reasons(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(reason, count)| format!("{count} × {reason}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        writeln!(
            f,
            "notification-bench {}: {} users × {} devices = {} sockets, {} process(es), {} node(s)",
            self.scenario,
            s.users,
            s.devices,
            s.sockets,
            s.processes,
            s.nodes.len()
        )?;
        writeln!(
            f,
            "machine    {} cores, kernel {}, load average at start {}",
            self.machine.cores, self.machine.kernel, self.machine.load_average_at_start
        )?;
        let c = &self.connect;
        writeln!(
            f,
            "connect    {} opened, {} failed in {:.1} s ({:.0}/s); failures: {}",
            c.opened,
            c.failed,
            c.seconds,
            if c.seconds > 0.0 {
                c.opened as f64 / c.seconds
            } else {
                0.0
            },
            reasons(&c.failures)
        )?;
        if let Some(server) = &self.server {
            writeln!(
                f,
                "server     RSS {} before, {} with the sockets open: {} per socket",
                Size(server.baseline.rss_bytes as f64),
                Size(server.connected.rss_bytes as f64),
                server
                    .rss_per_socket_bytes
                    .map_or("-".into(), |b| Size(b).to_string()),
            )?;
            if let Some(end) = server.held.or(server.after_load) {
                writeln!(
                    f,
                    "           RSS {} at the end: {} per socket",
                    Size(end.rss_bytes as f64),
                    server
                        .rss_per_socket_at_end_bytes
                        .map_or("-".into(), |b| Size(b).to_string()),
                )?;
            }
            if let Some(cpu) = server.load_cpu_seconds {
                writeln!(
                    f,
                    "           CPU {:.2} s during the load: {} µs per delivery, {} µs per create",
                    cpu,
                    server
                        .cpu_us_per_delivery
                        .map_or("-".into(), |v| format!("{v:.1}")),
                    server
                        .cpu_us_per_create
                        .map_or("-".into(), |v| format!("{v:.1}")),
                )?;
            }
        }
        if let Some(load) = &self.load {
            let p = &load.publish;
            writeln!(
                f,
                "publish    {} scheduled: {} accepted, {} failed, {} skipped (in-flight cap), {} unanswered; {:.1} creates/s over {:.1} s",
                p.scheduled, p.accepted, p.failed, p.skipped, p.in_flight, load.creates_per_sec, load.publish_seconds
            )?;
            if !p.failures.is_empty() {
                writeln!(f, "           failures: {}", reasons(&p.failures))?;
            }
            writeln!(f, "create     {}", percentiles(&load.create_latency))?;
            writeln!(f, "sched lag  {}", percentiles(&load.schedule_lag))?;
            writeln!(
                f,
                "delivery   {}/{} delivered, {} missing, {} duplicated, {} unexpected, {} unparsed; {:.1} deliveries/s; drained in {:.2} s",
                load.delivered, load.expected, load.missing, load.duplicated, load.unexpected, load.unparsed, load.deliveries_per_sec, load.drain_seconds
            )?;
            writeln!(f, "latency    {}", percentiles(&load.latency))?;
        }
        writeln!(f, "lost       {}", reasons(&self.lost_sockets))?;
        write!(
            f,
            "generator  RSS {}, CPU {:.2} s",
            Size(self.load_generator.rss_bytes as f64),
            self.load_generator.cpu_seconds
        )
    }
}
