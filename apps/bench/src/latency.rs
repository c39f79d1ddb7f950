//! Latency histograms (HDR, nanoseconds, 3 significant digits): recorded by
//! many tasks at once, shipped between processes as recorded values, and
//! summarised as percentiles in milliseconds.

use std::sync::{Mutex, PoisonError};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Smallest and largest latency a histogram holds: 1 µs to 10 minutes
/// (larger values are recorded as the largest).
const LOWEST_NS: u64 = 1_000;
const HIGHEST_NS: u64 = 600_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// Tasks record into one of a few locked histograms, so thousands of socket
/// tasks rarely wait for each other; [`ShardedHistogram::merged`] adds them up.
pub struct ShardedHistogram {
    shards: Box<[Mutex<Histogram<u64>>]>,
}

impl ShardedHistogram {
    pub fn new(shards: usize) -> Self {
        Self {
            shards: (0..shards.max(1)).map(|_| Mutex::new(empty())).collect(),
        }
    }

    /// Records `ns` into the shard chosen by `key` (e.g. a socket's index).
    pub fn record(&self, key: usize, ns: u64) {
        let shard = &self.shards[key % self.shards.len()];
        // A panic while recording leaves a usable histogram: ignore poisoning.
        let mut histogram = shard.lock().unwrap_or_else(PoisonError::into_inner);
        histogram.saturating_record(ns.max(LOWEST_NS));
    }

    pub fn merged(&self) -> Histogram<u64> {
        let mut total = empty();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            add(&mut total, &shard);
        }
        total
    }
}

/// An empty histogram with this module's bounds.
pub fn empty() -> Histogram<u64> {
    // No input reaches this: the bounds are constants the library accepts.
    Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// Records `ns`, clamped into the histogram's bounds.
pub fn record(histogram: &mut Histogram<u64>, ns: u64) {
    histogram.saturating_record(ns.max(LOWEST_NS));
}

fn add(total: &mut Histogram<u64>, part: &Histogram<u64>) {
    // Same bounds on both sides, so adding cannot fail; fall back to
    // re-recording value by value if it ever does.
    if total.add(part).is_err() {
        for value in part.iter_recorded() {
            total.saturating_record_n(value.value_iterated_to(), value.count_at_value());
        }
    }
}

/// A histogram as `(value, count)` pairs of its recorded values: exact, and
/// plain JSON for the trip from a worker process to the coordinator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded(pub Vec<(u64, u64)>);

impl From<&Histogram<u64>> for Recorded {
    fn from(histogram: &Histogram<u64>) -> Self {
        Self(
            histogram
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        )
    }
}

impl Recorded {
    /// Adds these values to `histogram`.
    pub fn add_to(&self, histogram: &mut Histogram<u64>) {
        for &(value, count) in &self.0 {
            histogram.saturating_record_n(value, count);
        }
    }

    /// All the parts in one histogram.
    pub fn merge<'a>(parts: impl IntoIterator<Item = &'a Recorded>) -> Histogram<u64> {
        let mut total = empty();
        for part in parts {
            part.add_to(&mut total);
        }
        total
    }
}

/// Percentiles in milliseconds, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl From<&Histogram<u64>> for LatencySummary {
    fn from(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        Self {
            count: h.len(),
            min_ms: ms(h.min()),
            mean_ms: h.mean() / 1e6,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge_into_every_recorded_value() {
        let sharded = ShardedHistogram::new(4);
        for i in 0..1000u64 {
            sharded.record(i as usize, (i + 1) * 1_000_000);
        }
        let merged = sharded.merged();
        assert_eq!(merged.len(), 1000);
        let summary = LatencySummary::from(&merged);
        assert!((summary.p50_ms - 500.0).abs() < 1.0, "{summary:?}");
        assert!((summary.max_ms - 1000.0).abs() < 1.0, "{summary:?}");
    }

    #[test]
    fn recorded_values_survive_the_trip_through_json() {
        let mut histogram = empty();
        for ns in [2_000, 2_000, 3_500_000, 42_000_000] {
            record(&mut histogram, ns);
        }
        let json = serde_json::to_string(&Recorded::from(&histogram)).unwrap();
        let back: Recorded = serde_json::from_str(&json).unwrap();
        let merged = Recorded::merge([&back, &back]);
        assert_eq!(merged.len(), 8);
        assert_eq!(merged.max(), histogram.max());
        assert_eq!(merged.min(), histogram.min());
    }

    #[test]
    fn an_empty_histogram_summarises_to_zeros() {
        assert_eq!(LatencySummary::from(&empty()), LatencySummary::default());
    }
}
