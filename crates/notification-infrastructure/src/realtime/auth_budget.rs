//! [`AuthBudget`]: how many in-band `auth` messages a connection may still
//! have checked this minute. Each costs a signature check, so a client
//! cannot make the server verify tokens as fast as it can send them.

use std::time::Duration;

use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);

/// A fixed one-minute window, started by the first `auth` of the window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthBudget {
    per_minute: u32,
    window_start: Option<Instant>,
    used: u32,
}

impl AuthBudget {
    pub(crate) fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute,
            window_start: None,
            used: 0,
        }
    }

    /// Whether one more `auth` may be checked at `now` (and counts it).
    pub(crate) fn try_spend(&mut self, now: Instant) -> bool {
        match self.window_start {
            Some(start) if now < start + WINDOW => {}
            _ => {
                self.window_start = Some(now);
                self.used = 0;
            }
        }
        if self.used < self.per_minute {
            self.used += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_within_a_minute_and_renews_after_it() {
        let start = Instant::now();
        let mut budget = AuthBudget::per_minute(2);
        assert!(budget.try_spend(start));
        assert!(budget.try_spend(start + Duration::from_secs(1)));
        assert!(!budget.try_spend(start + Duration::from_secs(59)));
        assert!(budget.try_spend(start + Duration::from_secs(60)));
        assert!(budget.try_spend(start + Duration::from_secs(61)));
        assert!(!budget.try_spend(start + Duration::from_secs(62)));
    }
}
