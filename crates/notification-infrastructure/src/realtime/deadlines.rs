//! [`Deadlines`]: the three clocks of a connection behind one timer.
//!
//! A connection must ping on schedule, notice silence and notice token expiry.
//! Rather than three timers per socket, the loop sleeps until the earliest of
//! the three and asks what is due. Hearing from the client only moves the
//! silence deadline later, so the timer is not reset for every frame: when it
//! fires early, nothing is due and it is set again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// What the timer found due, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    TokenExpired,
    Silence,
    Ping,
    Nothing,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    ping_interval: Duration,
    pong_timeout: Duration,
    next_ping: Instant,
    silent_at: Instant,
    expires_at: Instant,
}

impl Deadlines {
    /// Starting now, for a token expiring at `expires_at` (Unix seconds).
    pub(crate) fn start(ping_interval: Duration, pong_timeout: Duration, expires_at: i64) -> Self {
        let now = Instant::now();
        Self {
            ping_interval,
            pong_timeout,
            next_ping: now + ping_interval,
            silent_at: now + pong_timeout,
            expires_at: instant_of_unix(expires_at),
        }
    }

    /// The earliest deadline: when the timer should fire next.
    pub(crate) fn next(&self) -> Instant {
        self.next_ping.min(self.silent_at).min(self.expires_at)
    }

    pub(crate) fn due(&self, now: Instant) -> Due {
        if now >= self.expires_at {
            Due::TokenExpired
        } else if now >= self.silent_at {
            Due::Silence
        } else if now >= self.next_ping {
            Due::Ping
        } else {
            Due::Nothing
        }
    }

    /// Any frame from the client proves it alive.
    pub(crate) fn heard_from_client(&mut self, now: Instant) {
        self.silent_at = now + self.pong_timeout;
    }

    pub(crate) fn pinged(&mut self, now: Instant) {
        self.next_ping = now + self.ping_interval;
    }

    /// A refreshed token moves the expiry (earlier or later).
    pub(crate) fn token_refreshed(&mut self, expires_at: i64) {
        self.expires_at = instant_of_unix(expires_at);
    }
}

/// The monotonic instant at which the wall clock reaches `unix_seconds`
/// (now, if it already has).
fn instant_of_unix(unix_seconds: i64) -> Instant {
    let deadline = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0));
    let remaining = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + remaining
}

/// The wall clock in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PING: Duration = Duration::from_secs(54);
    const PONG: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn ping_comes_first_then_silence_then_expiry_wins_over_both() {
        let start = Instant::now();
        let deadlines = Deadlines::start(PING, PONG, unix_now() + 3600);
        assert_eq!(deadlines.next(), start + PING);
        assert_eq!(deadlines.due(start + PING), Due::Ping);
        assert_eq!(deadlines.due(start + PONG), Due::Silence);
        assert_eq!(
            deadlines.due(start + Duration::from_secs(3601)),
            Due::TokenExpired
        );
        assert_eq!(deadlines.due(start), Due::Nothing);
    }

    #[tokio::test(start_paused = true)]
    async fn hearing_from_the_client_postpones_silence() {
        let start = Instant::now();
        let mut deadlines = Deadlines::start(PING, PONG, unix_now() + 3600);
        deadlines.pinged(start + PING);
        deadlines.heard_from_client(start + Duration::from_secs(55));
        assert_eq!(deadlines.due(start + PONG), Due::Nothing);
        assert_eq!(deadlines.next(), start + Duration::from_secs(108));
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_token_is_due_at_once() {
        let deadlines = Deadlines::start(PING, PONG, unix_now() - 5);
        assert_eq!(deadlines.due(Instant::now()), Due::TokenExpired);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refreshed_token_moves_the_expiry() {
        let start = Instant::now();
        let mut deadlines = Deadlines::start(PING, PONG, unix_now() + 10);
        assert_eq!(
            deadlines.due(start + Duration::from_secs(11)),
            Due::TokenExpired
        );
        deadlines.token_refreshed(unix_now() + 1000);
        assert_ne!(
            deadlines.due(start + Duration::from_secs(11)),
            Due::TokenExpired
        );
    }
}
