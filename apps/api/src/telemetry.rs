//! Logs and metrics for the whole process.

use std::io::IsTerminal;
use std::sync::OnceLock;

use std::time::Duration;

use notification_infrastructure::background::BackgroundTasks;
use tokio::time::MissedTickBehavior;

use metrics_exporter_prometheus::{Matcher, PrometheusHandle};
use notification_presentation::metrics::prometheus_builder;
use tracing_subscriber::EnvFilter;

/// Latency buckets in seconds: from sub-millisecond pushes to slow requests.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// How often the recorder's histograms are drained.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the global tracing subscriber with `filter` (the `RUST_LOG` syntax).
/// A second call is a no-op, so tests may build several applications.
pub fn init_tracing(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never in files or pipes.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}

/// The process-wide Prometheus recorder. `metrics` has one global recorder, so
/// every application built in this process (tests build many) shares it; each
/// application runs its [upkeep](spawn_upkeep) for as long as it runs.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = prometheus_builder()
                .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS))
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics recorder not installed; /metrics will be empty");
                    None
                }
            }
        })
        .clone()
}

/// The recorder leaves draining its histograms to the caller; without this
/// their memory grows between scrapes. Runs until `tasks` shut down.
pub fn spawn_upkeep(handle: PrometheusHandle, tasks: &BackgroundTasks) {
    let cancelled = tasks.token();
    tasks.spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancelled.cancelled() => break,
                _ = every.tick() => handle.run_upkeep(),
            }
        }
    });
}
