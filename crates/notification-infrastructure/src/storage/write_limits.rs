//! [`WriteLimits`]: how much may wait for the storage writers, and for how
//! long, before a write is refused with `Unavailable` (503, retry later).

use std::time::Duration;

/// How much may wait for the writers, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    /// Writes queued, not yet in a batch, at most. Beyond it callers wait
    /// (up to `enter_wait`) for a place: memory and latency stay bounded when
    /// the database falls behind.
    pub queued: usize,
    /// How long a write waits for a place in the queue before it is refused.
    pub enter_wait: Duration,
    /// How long a queued write waits for its batch to start before it is
    /// refused (and taken out, never written).
    pub start_wait: Duration,
    /// PostgreSQL: how long a statement waits for a row lock (a user's
    /// counter held by a stuck transaction) before it fails as unavailable,
    /// so that a started batch cannot wait forever.
    pub lock_wait: Duration,
}

impl Default for WriteLimits {
    fn default() -> Self {
        Self {
            queued: 1024,
            enter_wait: Duration::from_secs(1),
            start_wait: Duration::from_secs(5),
            lock_wait: Duration::from_secs(5),
        }
    }
}
