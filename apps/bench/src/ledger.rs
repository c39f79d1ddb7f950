//! [`Ledger`]: what was published to whom and how each request ended, and
//! [`reconcile`], which holds it against what every socket received.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::receiver::Inbox;

const UNSENT: u8 = 0;
const IN_FLIGHT: u8 = 1;
const ACCEPTED: u8 = 2;
const FAILED: u8 = 3;
const SKIPPED: u8 = 4;

/// One slot per scheduled create, indexed by its sequence number.
pub struct Ledger {
    targets: Box<[AtomicU32]>,
    states: Box<[AtomicU8]>,
    failures: Mutex<BTreeMap<String, u64>>,
}

/// How the scheduled creates ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishCounts {
    pub scheduled: u64,
    /// Answered 201.
    pub accepted: u64,
    /// Answered otherwise, or not at all in time.
    pub failed: u64,
    /// Never sent: the in-flight cap was reached (the server fell behind).
    pub skipped: u64,
    /// Still unanswered when counted.
    pub in_flight: u64,
    /// Failures by reason (`http 500`, `timeout`, …).
    pub failures: BTreeMap<String, u64>,
}

impl Ledger {
    pub fn new(scheduled: usize) -> Self {
        Self {
            targets: (0..scheduled).map(|_| AtomicU32::new(0)).collect(),
            states: (0..scheduled).map(|_| AtomicU8::new(UNSENT)).collect(),
            failures: Mutex::new(BTreeMap::new()),
        }
    }

    /// Create `seq` for (worker-local) `user` is on its way.
    pub fn sent(&self, seq: usize, user: usize) {
        self.targets[seq].store(user_slot(user), Ordering::Relaxed);
        self.states[seq].store(IN_FLIGHT, Ordering::Release);
    }

    /// Create `seq` was not sent (in-flight cap).
    pub fn skipped(&self, seq: usize) {
        self.states[seq].store(SKIPPED, Ordering::Release);
    }

    /// Create `seq` was answered 201 (`Ok`) or failed for `reason`.
    pub fn settled(&self, seq: usize, outcome: Result<(), String>) {
        let state = match outcome {
            Ok(()) => ACCEPTED,
            Err(reason) => {
                let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
                *failures.entry(reason).or_default() += 1;
                FAILED
            }
        };
        self.states[seq].store(state, Ordering::Release);
    }

    pub fn counts(&self) -> PublishCounts {
        let mut counts = PublishCounts {
            scheduled: self.states.len() as u64,
            failures: self
                .failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            ..PublishCounts::default()
        };
        for state in self.states.iter() {
            match state.load(Ordering::Acquire) {
                ACCEPTED => counts.accepted += 1,
                FAILED => counts.failed += 1,
                SKIPPED => counts.skipped += 1,
                IN_FLIGHT => counts.in_flight += 1,
                _ => {}
            }
        }
        counts
    }

    /// The accepted sequence numbers of each of `users` users.
    fn accepted_by_user(&self, users: usize) -> Vec<Vec<u64>> {
        let mut by_user = vec![Vec::new(); users];
        for (seq, state) in self.states.iter().enumerate() {
            if state.load(Ordering::Acquire) == ACCEPTED {
                let user = self.targets[seq].load(Ordering::Relaxed) as usize;
                if let Some(seqs) = by_user.get_mut(user) {
                    seqs.push(seq as u64);
                }
            }
        }
        by_user
    }
}

fn user_slot(user: usize) -> u32 {
    // A worker holds at most ~19,000 users (one socket each at least).
    u32::try_from(user).unwrap_or(u32::MAX)
}

/// Accepted creates held against what the sockets received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    /// One per accepted create and open socket of its user.
    pub expected: u64,
    /// Expected arrivals that happened.
    pub delivered: u64,
    /// Expected arrivals that did not.
    pub missing: u64,
    /// Arrivals of creates not accepted (e.g. answered after the timeout).
    pub unexpected: u64,
}

/// Every socket of user u should have received every create accepted for u,
/// exactly once (repeats are counted as they arrive, see `Deliveries`).
pub fn reconcile(ledger: &Ledger, inboxes: &[std::sync::Arc<Inbox>], users: usize) -> Reconciled {
    let expected_by_user = ledger.accepted_by_user(users);
    let mut total = Reconciled::default();
    for inbox in inboxes {
        let expected = expected_by_user
            .get(inbox.user)
            .map_or(&[][..], Vec::as_slice);
        let seen = inbox.seen();
        let delivered = expected.iter().filter(|seq| seen.contains(seq)).count() as u64;
        total.expected += expected.len() as u64;
        total.delivered += delivered;
        total.missing += expected.len() as u64 - delivered;
        total.unexpected += seen.len() as u64 - delivered;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiver::Deliveries;
    use std::sync::Arc;

    fn arrive(deliveries: &Deliveries, inbox: &Inbox, seq: u64) {
        let text = serde_json::json!({
            "type": "notification",
            "data": {
                "notification_id": "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f",
                "user_id": "123e4567-e89b-12d3-a456-426614174001",
                "title": "t", "message": "m", "type": "INFO", "status": "UNREAD",
                "metadata": {"seq": seq, "sent_at_ns": 0},
                "created_at": "2025-12-31T18:00:00Z", "read_at": null, "archived_at": null
            },
            "unread_count": 1
        });
        deliveries.on_text(inbox, &text.to_string(), 1_000_000);
    }

    #[test]
    fn each_device_of_the_target_user_is_expected_to_receive_each_accepted_create() {
        let ledger = Ledger::new(4);
        ledger.sent(0, 0);
        ledger.sent(1, 1);
        ledger.sent(2, 0);
        ledger.settled(0, Ok(()));
        ledger.settled(1, Ok(()));
        ledger.settled(2, Err("http 500".into()));
        ledger.skipped(3);

        // User 0 has two devices, user 1 one.
        let inboxes: Vec<Arc<Inbox>> = [(0, 0), (0, 1), (1, 2)]
            .into_iter()
            .map(|(user, index)| Arc::new(Inbox::new(user, index)))
            .collect();
        let deliveries = Deliveries::default();
        arrive(&deliveries, &inboxes[0], 0); // user 0, first device
        arrive(&deliveries, &inboxes[0], 2); // the failed create arrived anyway
        arrive(&deliveries, &inboxes[2], 1); // user 1

        let result = reconcile(&ledger, &inboxes, 2);
        assert_eq!(
            result,
            Reconciled {
                expected: 3,
                delivered: 2,
                missing: 1,
                unexpected: 1
            }
        );
        let counts = ledger.counts();
        assert_eq!(
            (
                counts.scheduled,
                counts.accepted,
                counts.failed,
                counts.skipped
            ),
            (4, 2, 1, 1)
        );
        assert_eq!(counts.failures["http 500"], 1);
    }
}
