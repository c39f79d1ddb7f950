//! Delays between reconnection attempts: exponential, capped, with jitter.

use std::time::Duration;

/// Doubles the delay after each failed attempt, from `min` up to `max`, and
/// spreads each delay randomly over its upper half so that nodes which lost
/// Redis together do not all knock at the same instant when it comes back.
#[derive(Debug)]
pub(super) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(super) fn new(min: Duration, max: Duration) -> Self {
        Self {
            next: min.min(max),
            max,
        }
    }

    /// The delay to wait before the next attempt.
    pub(super) fn next_delay(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = ceiling.saturating_mul(2).min(self.max);
        let half = ceiling / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    #[test]
    fn delays_double_from_the_minimum_up_to_the_cap_within_their_upper_half() {
        let mut backoff = Backoff::new(MIN, MAX);
        let mut ceiling = MIN;
        for _ in 0..20 {
            let delay = backoff.next_delay();
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{delay:?} outside {:?}..={ceiling:?}",
                ceiling / 2
            );
            ceiling = (ceiling * 2).min(MAX);
        }
        assert_eq!(ceiling, MAX, "the cap is reached within 20 attempts");
    }

    #[test]
    fn delays_are_spread_rather_than_identical() {
        let delays: std::collections::HashSet<Duration> = (0..10)
            .map(|_| Backoff::new(MIN, MAX).next_delay())
            .collect();
        assert!(delays.len() > 1, "ten first delays were all {delays:?}");
    }

    #[test]
    fn a_minimum_above_the_cap_is_held_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(60), MAX);
        assert!(backoff.next_delay() <= MAX);
    }
}
