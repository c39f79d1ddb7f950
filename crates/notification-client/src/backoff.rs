//! Exponential back-off with jitter, capped: how long to wait before the next
//! connection attempt.

use std::time::Duration;

use rand::Rng;

/// The reconnect policy. The n-th consecutive failed attempt (from 0) waits
/// `min(initial × multiplierⁿ, max)`, shortened by up to `jitter` of itself at
/// random so that clients dropped together (a server restart) do not all come
/// back in the same instant.
/// Build with [`Backoff::new`] (or `default()`) and the `with_*` methods.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The cap.
    pub max: Duration,
    /// Growth per failure (≥ 1).
    pub multiplier: f64,
    /// Fraction of each wait taken off at random, 0.0 (none) to 1.0 (full jitter).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.3,
        }
    }
}

impl Backoff {
    /// Starting at `initial`, doubling up to `max`, with 30 % jitter.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            ..Self::default()
        }
    }

    /// Sets the growth per failure (≥ 1).
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets the fraction of each wait taken off at random (0.0 to 1.0).
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The wait before retrying after `failures` consecutive failures
    /// (`failures` ≥ 1; 0 is treated as 1).
    pub fn delay(&self, failures: u32) -> Duration {
        self.delay_with(failures, rand::rng().random::<f64>())
    }

    /// [`delay`](Self::delay) with the random draw given (0.0 ≤ `draw` < 1.0).
    pub fn delay_with(&self, failures: u32, draw: f64) -> Duration {
        let exponent = failures.saturating_sub(1).min(64);
        let growth = self.multiplier.max(1.0).powi(exponent as i32);
        let capped = (self.initial.as_secs_f64() * growth).min(self.max.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0) * draw.clamp(0.0, 1.0);
        // Only an infinite cap with an overflowing growth is not representable.
        Duration::try_from_secs_f64(capped * (1.0 - jitter)).unwrap_or(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Backoff {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.5,
        }
    }

    #[test]
    fn waits_grow_exponentially_up_to_the_cap() {
        let waits: Vec<u128> = (1..=6)
            .map(|n| policy().delay_with(n, 0.0).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_only_ever_shortens_a_wait_by_its_fraction() {
        assert_eq!(policy().delay_with(3, 0.999_999).as_millis(), 200);
        assert_eq!(policy().delay_with(10, 0.5).as_millis(), 750);
        for _ in 0..100 {
            let wait = policy().delay(2);
            assert!(wait <= Duration::from_millis(200) && wait >= Duration::from_millis(100));
        }
    }

    #[test]
    fn silly_settings_stay_finite() {
        let silly = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(5),
            multiplier: 0.1,
            jitter: 7.0,
        };
        assert_eq!(silly.delay_with(u32::MAX, 0.0), Duration::from_secs(1));
        assert_eq!(silly.delay_with(0, 1.0), Duration::ZERO);
    }
}
