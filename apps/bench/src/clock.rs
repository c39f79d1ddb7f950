//! One monotonic clock for the whole process: a create request stamps
//! `metadata.sent_at_ns` with it and the socket that receives the
//! notification reads it again, so the latency needs no wall clock.

use std::sync::OnceLock;
use std::time::Instant;

static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the first call in this process.
pub fn now_ns() -> u64 {
    let origin = ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_never_goes_back() {
        let first = now_ns();
        let second = now_ns();
        assert!(second >= first);
    }
}
