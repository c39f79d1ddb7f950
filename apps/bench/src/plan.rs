//! [`WorkerPlan`]: the share of the run one load-generator process takes,
//! and [`split`], which hands the users, the rate and the source addresses
//! out to the processes.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::cli::{CommonArgs, LoadArgs};
use crate::node::Target;

/// Everything one worker process needs; sent as the first line of its stdin
/// (not on its command line, where the secret would show in `ps`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerPlan {
    /// 0-based; prefixes the worker's progress lines.
    pub worker: usize,
    /// Global index of this worker's first user (user i lives on node i mod n).
    pub first_user: usize,
    pub users: usize,
    pub devices: usize,
    /// Base URLs of the server nodes.
    pub nodes: Vec<String>,
    /// What kind of server they are.
    pub target: Target,
    /// This worker's client source addresses.
    pub source_addrs: Vec<Ipv4Addr>,
    pub jwt_secret: String,
    pub token_ttl_secs: u64,
    pub connect_concurrency: usize,
    pub connect_timeout_secs: f64,
    /// `None` for the idle scenario.
    pub load: Option<LoadPlan>,
}

/// The publishing share of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadPlan {
    /// Creates per second from this worker (its share of `--rate`).
    pub rate: f64,
    pub duration_secs: f64,
    pub max_in_flight: usize,
    pub request_timeout_secs: f64,
    pub drain_timeout_secs: f64,
}

/// One plan per process: users in contiguous blocks (a user's devices all in
/// one process, which also publishes to that user), the rate in proportion
/// to the users, and disjoint source addresses.
pub fn split(common: &CommonArgs, load: Option<&LoadArgs>) -> anyhow::Result<Vec<WorkerPlan>> {
    let processes = common.process_count();
    let per_process = common.source_addrs.max(1);
    let base = u32::from(common.source_base);
    (0..processes)
        .map(|worker| {
            let first_user = worker * common.users / processes;
            let users = (worker + 1) * common.users / processes - first_user;
            let source_addrs = (0..per_process)
                .map(|k| source_addr(base, worker * per_process + k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(WorkerPlan {
                worker,
                first_user,
                users,
                devices: common.devices,
                nodes: common.urls.clone(),
                target: common.target,
                source_addrs,
                jwt_secret: common.jwt_secret.clone(),
                token_ttl_secs: common.token_ttl,
                connect_concurrency: common.connect_concurrency.max(1),
                connect_timeout_secs: common.connect_timeout,
                load: load.map(|load| LoadPlan {
                    rate: share(load.rate, users, common.users),
                    duration_secs: load.duration,
                    max_in_flight: load.max_in_flight.max(1),
                    request_timeout_secs: load.request_timeout,
                    drain_timeout_secs: load.drain_timeout,
                }),
            })
        })
        .collect()
}

fn share(rate: f64, users: usize, all_users: usize) -> f64 {
    if all_users == 0 {
        return 0.0;
    }
    rate * users as f64 / all_users as f64
}

/// `base + offset`, which must stay in 127.0.0.0/8: the tool only ever
/// talks to this machine.
fn source_addr(base: u32, offset: usize) -> anyhow::Result<Ipv4Addr> {
    let addr = u32::try_from(offset)
        .ok()
        .and_then(|offset| base.checked_add(offset))
        .map(Ipv4Addr::from)
        .filter(Ipv4Addr::is_loopback);
    addr.ok_or_else(|| {
        anyhow::anyhow!(
            "source address {offset} after {} leaves 127.0.0.0/8",
            Ipv4Addr::from(base)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn load_args(flags: &[&str]) -> LoadArgs {
        let mut argv = vec!["notification-bench", "load", "--jwt-secret", "s"];
        argv.extend_from_slice(flags);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Load(args) => args,
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn users_rate_and_addresses_are_shared_without_overlap() {
        let args = load_args(&["--users", "10", "--processes", "3", "--rate", "100"]);
        let plans = split(&args.common, Some(&args)).unwrap();

        let blocks: Vec<_> = plans.iter().map(|p| (p.first_user, p.users)).collect();
        assert_eq!(blocks, [(0, 3), (3, 3), (6, 4)]);
        let rates: f64 = plans.iter().map(|p| p.load.unwrap().rate).sum();
        assert!((rates - 100.0).abs() < 1e-9);
        let addrs: Vec<_> = plans.iter().flat_map(|p| p.source_addrs.clone()).collect();
        let expected: Vec<Ipv4Addr> = (1..=6).map(|last| Ipv4Addr::new(127, 0, 0, last)).collect();
        assert_eq!(addrs, expected);
    }

    #[test]
    fn source_addresses_never_leave_loopback() {
        let args = load_args(&["--source-base", "127.255.255.254", "--source-addrs", "4"]);
        assert!(split(&args.common, Some(&args)).is_err());
    }
}
