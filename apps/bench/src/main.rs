//! `notification-bench`: the load generator of the notification service.
//!
//! It opens users × devices authenticated WebSockets (spread over several
//! loopback source addresses and, past ~19,000 sockets, several processes),
//! optionally publishes through the REST API at an open-loop rate, and
//! reports the server's memory per socket, CPU per delivery, end-to-end
//! latency and every missing or duplicated message; `table` turns several
//! runs' reports into one table of medians. See docs/benchmarks.md.
//!
//! - `cli`: the command line; `plan`: each process's share of the run;
//! - `coordinator`: phases, server samples and the merged report;
//!   `link`: its line protocol with the `worker` processes; `worker`: one
//!   process's side of it;
//! - `fleet` (opening sockets, `dial`), `receiver` (what each socket gets),
//!   `publisher` and `load` (the open-loop schedule), `ledger` (sent vs received);
//! - `latency` (HDR histograms), `procfs` (RSS and CPU samples), `clock`,
//!   `node` (a server under test: this service or nchan), `users`, `report`;
//! - `table`: the medians of several runs.

mod cli;
mod clock;
mod coordinator;
mod dial;
mod fleet;
mod latency;
mod ledger;
mod link;
mod load;
mod node;
mod plan;
mod procfs;
mod publisher;
mod receiver;
mod report;
mod table;
mod users;
mod worker;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::cli::{Cli, Command, CommonArgs, TableArgs};
use crate::coordinator::Scenario;
use crate::report::Report;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Table(args) = &cli.command {
        return finish(table(args));
    }
    // Every socket is a descriptor: take all the hard limit allows.
    let open_files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            eprintln!("error: cannot raise the open-files limit: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Worker => worker::run().await,
            Command::Idle(args) => {
                let scenario = Scenario::Idle {
                    hold_secs: args.hold,
                };
                coordinate(&args.common, scenario, open_files, 0).await
            }
            Command::Load(args) => {
                let scenario = Scenario::Load(args);
                coordinate(&args.common, scenario, open_files, args.max_in_flight).await
            }
            Command::Table(args) => table(args),
        }
    });
    finish(result)
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn coordinate(
    common: &CommonArgs,
    scenario: Scenario<'_>,
    open_files: u64,
    max_in_flight: usize,
) -> anyhow::Result<()> {
    let per_process = common.sockets().div_ceil(common.process_count());
    // Sockets, in-flight requests, and a margin for the runtime and stdio.
    let needed = (per_process + max_in_flight + 64) as u64;
    if needed > open_files {
        eprintln!(
            "warning: {per_process} sockets and {max_in_flight} requests per process need about \
             {needed} descriptors; the limit is {open_files}: use --processes or --sockets-per-process"
        );
    }
    let report = coordinator::run(common, scenario, open_files).await?;
    publish(common, &report)
}

fn table(args: &TableArgs) -> anyhow::Result<()> {
    let markdown = table::render(&table::read_rows(&args.folder)?);
    if let Some(path) = &args.output {
        std::fs::write(path, &markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    print!("{markdown}");
    Ok(())
}

fn publish(common: &CommonArgs, report: &Report) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    if let Some(path) = &common.output {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
        }
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
    }
    if common.json {
        println!("{json}");
    } else {
        println!("{report}");
    }
    Ok(())
}
