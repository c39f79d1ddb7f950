//! The command line: `idle` and `load` scenarios, `table` (medians of
//! several runs), plus the hidden `worker` subcommand the tool runs itself
//! as when one process is not enough.

use std::net::Ipv4Addr;

use clap::{Args, Parser, Subcommand};

use crate::node::Target;

/// Most sockets one load-generator process opens: the open-files limit is
/// 20,000 per process here, and each process also needs descriptors for its
/// REST connections, its runtime and its standard streams.
pub const MAX_SOCKETS_PER_PROCESS: usize = 19_000;

#[derive(Debug, Parser)]
#[command(
    name = "notification-bench",
    version,
    about = "Load generator for the notification service (loopback only)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the sockets, hold them idle and report the server's memory per socket.
    Idle(IdleArgs),
    /// Open the sockets, publish at an open-loop rate and report latency,
    /// throughput and missing messages.
    Load(LoadArgs),
    /// Print the medians of the load reports in a folder as a markdown table
    /// (files named `<scenario>.<server>.run<k>.json`, one row per scenario
    /// and server).
    Table(TableArgs),
    /// One load-generator process, driven by a coordinator over stdin/stdout.
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Seconds to keep the sockets idle after the "connected" sample; a
    /// second sample is then taken (hold past WS_PING_INTERVAL to see the
    /// memory after the first ping/pong).
    #[arg(long, default_value_t = 0.0)]
    pub hold: f64,
}

#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// The folder holding the runs' JSON reports.
    pub folder: std::path::PathBuf,
    /// Also write the table to this file.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Notifications created per second, all processes together. Open loop:
    /// requests leave on schedule whether or not earlier ones were answered.
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Requests in flight per process before new ones are skipped (and
    /// counted as skipped): a server that falls behind cannot exhaust the
    /// tool's file descriptors.
    #[arg(long, default_value_t = 500)]
    pub max_in_flight: usize,
    /// Seconds before one create request is given up.
    #[arg(long, default_value_t = 10.0)]
    pub request_timeout: f64,
    /// Seconds to wait after the last answer for the remaining deliveries.
    #[arg(long, default_value_t = 10.0)]
    pub drain_timeout: f64,
}

/// What every scenario needs: where the server is, how many sockets, how
/// they are spread, and how the report is written.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Base URL of a server node (repeat for several nodes: user i lives on
    /// node i mod n, both its sockets and the notifications created for it).
    /// Loopback addresses only.
    #[arg(long = "url", default_value = "http://127.0.0.1:8080")]
    pub urls: Vec<String>,
    /// What kind of server the nodes are: this service, or nginx with nchan
    /// (the comparison peer of the pinned benchmark).
    #[arg(long, value_enum, default_value_t = Target::Service)]
    pub target: Target,
    /// PID of a server node, to sample its RSS and CPU time from /proc
    /// (repeat for several nodes; the samples are summed).
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// The HS256 secret the server runs with; tokens are minted with it.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// Distinct users.
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Sockets (devices) per user; at most the server's WS_MAX_CONNECTIONS_PER_USER.
    #[arg(long, default_value_t = 1)]
    pub devices: usize,
    /// Load-generator processes; by default as many as needed for at most
    /// `--sockets-per-process` sockets each.
    #[arg(long)]
    pub processes: Option<usize>,
    /// Most sockets per process when `--processes` is not given.
    #[arg(long, default_value_t = MAX_SOCKETS_PER_PROCESS)]
    pub sockets_per_process: usize,
    /// First client source address; process j uses the `--source-addrs`
    /// addresses that follow base + j × source-addrs (about 28,000 ports each).
    #[arg(long, default_value = "127.0.0.1")]
    pub source_base: Ipv4Addr,
    /// Source addresses per process; sockets are spread over them in turn.
    #[arg(long, default_value_t = 2)]
    pub source_addrs: usize,
    /// Handshakes in progress at once, per process.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Seconds before one connection attempt (TCP + upgrade) is given up.
    #[arg(long, default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Seconds to wait once every socket is open before sampling the server.
    #[arg(long, default_value_t = 5.0)]
    pub settle: f64,
    /// Lifetime of the minted tokens, in seconds; must outlast the run.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl: u64,
    /// Print the report as JSON on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
}

impl CommonArgs {
    pub fn sockets(&self) -> usize {
        self.users.saturating_mul(self.devices)
    }

    /// `--processes`, or enough processes for `--sockets-per-process` each.
    pub fn process_count(&self) -> usize {
        let wanted = self
            .processes
            .unwrap_or_else(|| self.sockets().div_ceil(self.sockets_per_process.max(1)));
        // Never more processes than users: a user's devices stay together.
        wanted.clamp(1, self.users.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(flags: &[&str]) -> CommonArgs {
        let mut argv = vec!["notification-bench", "idle", "--jwt-secret", "s"];
        argv.extend_from_slice(flags);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Idle(args) => args.common,
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn enough_processes_are_planned_for_the_sockets() {
        assert_eq!(common(&["--users", "1000"]).process_count(), 1);
        assert_eq!(common(&["--users", "19000"]).process_count(), 1);
        assert_eq!(common(&["--users", "19001"]).process_count(), 2);
        assert_eq!(
            common(&["--users", "10000", "--devices", "5"]).process_count(),
            3
        );
        assert_eq!(
            common(&["--users", "3", "--processes", "8"]).process_count(),
            3
        );
    }
}
