//! One worker's load phase: publish on schedule, wait for the answers and
//! the deliveries, then reconcile.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};

use crate::fleet::Fleet;
use crate::latency::{LatencySummary, Recorded, ShardedHistogram};
use crate::ledger::{reconcile, Ledger, PublishCounts, Reconciled};
use crate::node::Node;
use crate::plan::LoadPlan;
use crate::publisher::Publisher;
use crate::users::User;

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(5);

/// What one worker measured in its load phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadOutcome {
    pub publish: PublishCounts,
    /// Seconds the schedule took (≈ `--duration`).
    pub publish_seconds: f64,
    /// Seconds from the end of the schedule until everything arrived or the
    /// drain timeout passed.
    pub drain_seconds: f64,
    pub reconciled: Reconciled,
    pub duplicated: u64,
    pub unparsed: u64,
    pub other_messages: u64,
    /// Request sent → frame received, per socket and first arrival.
    pub latency: Recorded,
    /// Request sent → 201 read.
    pub create_latency: Recorded,
    /// Request left late by this much compared with its slot.
    pub schedule_lag: Recorded,
}

/// Publishes `plan.rate × plan.duration` creates to `users` and measures.
pub async fn run(
    plan: &LoadPlan,
    worker: usize,
    fleet: &Fleet,
    users: Arc<[User]>,
    nodes: Arc<[Node]>,
    publisher_token: &str,
) -> anyhow::Result<LoadOutcome> {
    let scheduled = (plan.rate * plan.duration_secs).round().max(0.0) as usize;
    let request_timeout = Duration::from_secs_f64(plan.request_timeout_secs.max(0.001));
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(plan.max_in_flight)
        // Below the server's keep-alive (actix-web: 5 s). A pooled connection
        // idle for longer is closed by the server, and a request sent on it
        // just then fails with "error sending request" without reaching the
        // server (seen: 1–3 per 60,000 creates). Dropping it first avoids that.
        .pool_idle_timeout(Duration::from_secs(4))
        .timeout(request_timeout)
        .build()
        .context("building the HTTP client")?;
    let publisher = Publisher {
        client,
        nodes,
        users: users.clone(),
        authorization: HeaderValue::from_str(&format!("Bearer {publisher_token}"))
            .context("publisher token is not a valid header value")?,
        ledger: Arc::new(Ledger::new(scheduled)),
        devices_per_user: fleet.devices_per_user.clone().into(),
        expected: Arc::new(AtomicU64::new(0)),
        in_flight: Arc::new(AtomicUsize::new(0)),
        max_in_flight: plan.max_in_flight,
        create_latency: Arc::new(ShardedHistogram::new(8)),
    };
    eprintln!(
        "[w{worker}] publishing {scheduled} notifications at {:.0}/s",
        plan.rate
    );
    let paced = if users.is_empty() {
        eprintln!("[w{worker}] no users: nothing to publish");
        crate::publisher::Paced {
            schedule_lag: crate::latency::empty(),
            seconds: 0.0,
        }
    } else {
        publisher.run(plan.rate, scheduled).await
    };

    let drain_started = Instant::now();
    // Every request ends by its own timeout; the margin covers the runtime.
    wait_until(request_timeout + Duration::from_secs(5), || {
        publisher.in_flight.load(Ordering::Relaxed) == 0
    })
    .await;
    let deliveries = &fleet.deliveries;
    let all_arrived = wait_until(Duration::from_secs_f64(plan.drain_timeout_secs), || {
        deliveries.delivered.load(Ordering::Relaxed) >= publisher.expected.load(Ordering::Relaxed)
    })
    .await;
    let drain_seconds = drain_started.elapsed().as_secs_f64();
    if !all_arrived {
        eprintln!("[w{worker}] drain timeout: some notifications never arrived");
    }

    let outcome = LoadOutcome {
        publish: publisher.ledger.counts(),
        publish_seconds: paced.seconds,
        drain_seconds,
        reconciled: reconcile(&publisher.ledger, &fleet.inboxes, users.len()),
        duplicated: deliveries.duplicated.load(Ordering::Relaxed),
        unparsed: deliveries.unparsed.load(Ordering::Relaxed),
        other_messages: deliveries.other_messages.load(Ordering::Relaxed),
        latency: Recorded::from(&deliveries.latency.merged()),
        create_latency: Recorded::from(&publisher.create_latency.merged()),
        schedule_lag: Recorded::from(&paced.schedule_lag),
    };
    let summary = LatencySummary::from(&deliveries.latency.merged());
    eprintln!(
        "[w{worker}] delivered {}/{} (missing {}), p50 {:.2} ms, p99 {:.2} ms",
        outcome.reconciled.delivered,
        outcome.reconciled.expected,
        outcome.reconciled.missing,
        summary.p50_ms,
        summary.p99_ms
    );
    Ok(outcome)
}

/// Polls `done` until it holds (true) or `limit` passes (false).
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}
