//! One load-generator process: opens its share of sockets, publishes its
//! share of the rate when told to, and reports each phase on stdout.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::fleet::Fleet;
use crate::link::{Command, WorkerEvent};
use crate::node::Node;
use crate::plan::WorkerPlan;
use crate::procfs;
use crate::users::{make_users, Tokens, User};
use crate::{load, load::LoadOutcome};

/// Serves the coordinator on stdin/stdout until told to close (or until
/// stdin closes).
pub async fn run() -> anyhow::Result<()> {
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    let plan_line = commands
        .next_line()
        .await?
        .ok_or_else(|| anyhow!("no plan on stdin (this subcommand is run by the tool itself)"))?;
    let plan: WorkerPlan = serde_json::from_str(&plan_line).context("reading the plan")?;

    let nodes: Arc<[Node]> = plan
        .nodes
        .iter()
        .map(|url| Node::resolve(url, plan.target))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into();
    let tokens = Tokens::new(&plan.jwt_secret, Duration::from_secs(plan.token_ttl_secs))?;
    let users: Arc<[User]> = make_users(&tokens, plan.first_user, plan.users, nodes.len())?.into();
    let publisher_token = tokens.publisher()?;

    let (fleet, connected) = Fleet::open(&plan, users.clone(), nodes.clone()).await;
    emit(&WorkerEvent::Connected { outcome: connected })?;

    while let Some(Command::Load) = commands
        .next_line()
        .await?
        .as_deref()
        .and_then(Command::parse)
    {
        let outcome = match &plan.load {
            Some(load) => {
                load::run(
                    load,
                    plan.worker,
                    &fleet,
                    users.clone(),
                    nodes.clone(),
                    &publisher_token,
                )
                .await?
            }
            None => LoadOutcome::default(),
        };
        emit(&WorkerEvent::Loaded {
            outcome: Box::new(outcome),
        })?;
    }

    // Sampled before closing: the footprint of the open sockets.
    let process = procfs::sample_self().unwrap_or_default();
    let lost_sockets = fleet.deliveries.lost_sockets();
    fleet.close().await;
    emit(&WorkerEvent::Closed {
        process,
        lost_sockets,
    })
}

fn emit(event: &WorkerEvent) -> anyhow::Result<()> {
    let line = serde_json::to_string(event)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}
