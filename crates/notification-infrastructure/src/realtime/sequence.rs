//! [`UserSequence`]: puts one user's changes in `seq` order on this node,
//! once each, with no gap, for all of that user's connections here together.
//!
//! Changes reach a node out of order (two request tasks publish in whatever
//! order they run; two nodes publish to Redis concurrently) and some never
//! reach it (a publish that failed). Every change has a place in the user's
//! sequence (contract §7), so the node can tell: a `seq` at or below the last
//! one handed on is a repeat; the next one is handed on with whatever was
//! waiting behind it; one further ahead waits while the missing ones are read
//! from the change log, by one read per user (not one per connection).
//!
//! The type holds no I/O: it says what to hand on and when to read, and the
//! hub and the healer do it. Its state is small, and dropped with the user's
//! last connection on this node.

use std::collections::BTreeMap;

/// Most changes held ahead of a gap for one user. More are left to the log
/// read (which returns them anyway), so a user whose gap takes long to fill
/// holds bounded memory.
pub(crate) const AHEAD_LIMIT: usize = 256;

/// One user's place in the change sequence on this node.
#[derive(Debug)]
pub(crate) struct UserSequence<T> {
    /// The last `seq` handed on; every change up to it has been handed on or
    /// was already known to the connections when they started. `None` until
    /// the first connection's starting point is known (see [`Self::anchor`]).
    head: Option<u64>,
    /// Changes that arrived beyond `head + 1`, waiting for the ones before.
    ahead: BTreeMap<u64, T>,
    /// The highest `seq` known to exist (from a change heard, a replay or a
    /// read of the latest positions).
    known: u64,
    /// A log read for this user is planned or running: no second one.
    reading: bool,
}

/// What the caller does next, after handing something in.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Next<T> {
    /// Hand these on to every connection of the user, in this order.
    pub(crate) deliver: Vec<(u64, T)>,
    /// Read the changes after this `seq` from the log (set once per gap).
    pub(crate) read_after: Option<u64>,
}

impl<T> Default for Next<T> {
    fn default() -> Self {
        Self {
            deliver: Vec::new(),
            read_after: None,
        }
    }
}

impl<T> Default for UserSequence<T> {
    fn default() -> Self {
        Self {
            head: None,
            ahead: BTreeMap::new(),
            known: 0,
            reading: false,
        }
    }
}

impl<T> UserSequence<T> {
    /// The last `seq` handed on, once anchored.
    pub(crate) fn head(&self) -> Option<u64> {
        self.head
    }

    /// A change heard live.
    pub(crate) fn offer(&mut self, seq: u64, item: T) -> Next<T> {
        self.known = self.known.max(seq);
        if self.head.is_some_and(|head| seq <= head) {
            return Next::default();
        }
        self.hold(seq, item);
        self.settle()
    }

    /// A connection knows the user's changes up to `seq` (read from storage
    /// after it registered, so every change handed on before is at or below
    /// it). The first such point anchors the sequence: what waited at or
    /// below it is dropped (the connection has or replays it). Later ones
    /// only tell that changes up to `seq` exist.
    pub(crate) fn anchor(&mut self, seq: u64) -> Next<T> {
        self.known = self.known.max(seq);
        if self.head.is_none() {
            self.head = Some(seq);
        }
        self.settle()
    }

    /// The user's latest `seq`, read from storage (the periodic check for
    /// lost publishes): a read is asked for when it is ahead.
    pub(crate) fn learned_latest(&mut self, seq: u64) -> Next<T> {
        self.known = self.known.max(seq);
        self.settle()
    }

    /// Whether the planned read is still needed (the missing changes may have
    /// arrived meanwhile): `Some(after)` to read after that `seq`, or `None`
    /// and the plan is dropped.
    pub(crate) fn confirm_read(&mut self) -> Option<u64> {
        match self.head {
            Some(head) if self.reading && head < self.known => Some(head),
            _ => {
                self.reading = false;
                None
            }
        }
    }

    /// The changes a log read returned (in `seq` order) and the user's latest
    /// `seq` read with them.
    pub(crate) fn read_done(&mut self, changes: Vec<(u64, T)>, latest: u64) -> Next<T> {
        self.reading = false;
        let before = self.head;
        for (seq, item) in changes {
            if self.head.is_none_or(|head| seq > head) {
                self.ahead.insert(seq, item);
            }
        }
        self.known = self.known.max(latest);
        let mut next = self.settle_without_reading();
        if self.head == before {
            // The log had nothing to add: what was known to exist beyond it
            // is not (yet) there. Do not read in a loop; the next change or
            // the next periodic check asks again.
            self.known = self.head.unwrap_or(self.known);
        } else {
            next.read_after = self.plan_read();
        }
        next
    }

    /// The read failed; the next change or periodic check tries again.
    pub(crate) fn read_failed(&mut self) {
        self.reading = false;
    }

    /// The log no longer holds the changes after `head`: go on after
    /// `latest` (the connections are told to resync by the caller).
    pub(crate) fn skip_to(&mut self, latest: u64) -> Next<T> {
        self.reading = false;
        self.known = self.known.max(latest);
        self.head = Some(self.head.map_or(latest, |head| head.max(latest)));
        self.settle()
    }

    /// Holds `item` until its turn. When full, the lowest `seq`s are kept
    /// (they come out first; the highest are read from the log later).
    fn hold(&mut self, seq: u64, item: T) {
        if self.ahead.len() >= AHEAD_LIMIT && !self.ahead.contains_key(&seq) {
            match self.ahead.last_key_value() {
                Some((&highest, _)) if seq < highest => {
                    self.ahead.pop_last();
                }
                _ => return,
            }
        }
        self.ahead.insert(seq, item);
    }

    /// Hands on what is next in line, then plans a read if a gap remains.
    fn settle(&mut self) -> Next<T> {
        let mut next = self.settle_without_reading();
        next.read_after = self.plan_read();
        next
    }

    fn settle_without_reading(&mut self) -> Next<T> {
        let mut next = Next::default();
        let Some(mut head) = self.head else {
            return next;
        };
        while let Some(entry) = self.ahead.first_entry() {
            let seq = *entry.key();
            if seq <= head {
                entry.remove();
            } else if seq == head + 1 {
                next.deliver.push((seq, entry.remove()));
                head = seq;
            } else {
                break;
            }
        }
        self.head = Some(head);
        next
    }

    fn plan_read(&mut self) -> Option<u64> {
        let head = self.head?;
        if self.reading || head >= self.known {
            return None;
        }
        self.reading = true;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchored_at(seq: u64) -> UserSequence<&'static str> {
        let mut sequence = UserSequence::default();
        assert_eq!(sequence.anchor(seq), Next::default());
        sequence
    }

    fn delivered(next: &Next<&'static str>) -> Vec<u64> {
        next.deliver.iter().map(|(seq, _)| *seq).collect()
    }

    #[test]
    fn changes_in_order_are_handed_on_at_once() {
        let mut sequence = anchored_at(0);
        for seq in 1..=3 {
            let next = sequence.offer(seq, "x");
            assert_eq!(delivered(&next), vec![seq]);
            assert_eq!(next.read_after, None);
        }
        assert_eq!(sequence.head(), Some(3));
    }

    #[test]
    fn a_repeat_or_an_older_change_is_dropped() {
        let mut sequence = anchored_at(4);
        assert_eq!(sequence.offer(4, "again"), Next::default());
        assert_eq!(sequence.offer(2, "old"), Next::default());
        assert_eq!(delivered(&sequence.offer(5, "new")), vec![5]);
        assert_eq!(sequence.offer(5, "again"), Next::default());
    }

    #[test]
    fn a_change_ahead_waits_for_the_ones_before_it_and_asks_for_one_read() {
        let mut sequence = anchored_at(1);
        let next = sequence.offer(3, "three");
        assert_eq!(delivered(&next), Vec::<u64>::new());
        assert_eq!(
            next.read_after,
            Some(1),
            "one read after the last handed on"
        );

        // More changes behind the same gap share the read already planned.
        assert_eq!(sequence.offer(4, "four"), Next::default());

        // The missing one arrives live: everything waiting follows, in order.
        let next = sequence.offer(2, "two");
        assert_eq!(
            next.deliver,
            vec![(2, "two"), (3, "three"), (4, "four")],
            "in seq order"
        );
        assert_eq!(
            sequence.confirm_read(),
            None,
            "the gap closed before the read"
        );
    }

    #[test]
    fn a_read_fills_the_gap_and_the_changes_waiting_follow() {
        let mut sequence = anchored_at(1);
        assert_eq!(sequence.offer(4, "four live").read_after, Some(1));
        assert_eq!(sequence.confirm_read(), Some(1));

        let next = sequence.read_done(vec![(2, "two"), (3, "three"), (4, "four read")], 4);
        assert_eq!(delivered(&next), vec![2, 3, 4]);
        assert_eq!(next.read_after, None);
        // A live copy arriving after the read is a repeat.
        assert_eq!(sequence.offer(3, "three live"), Next::default());
    }

    #[test]
    fn a_long_gap_is_read_page_after_page() {
        let mut sequence = anchored_at(0);
        assert_eq!(sequence.offer(6, "six").read_after, Some(0));
        sequence.confirm_read();
        let next = sequence.read_done(vec![(1, "a"), (2, "b")], 6);
        assert_eq!(delivered(&next), vec![1, 2]);
        assert_eq!(next.read_after, Some(2), "the next page");
        sequence.confirm_read();
        let next = sequence.read_done(vec![(3, "c"), (4, "d"), (5, "e"), (6, "f")], 6);
        assert_eq!(delivered(&next), vec![3, 4, 5, 6]);
        assert_eq!(next.read_after, None);
    }

    #[test]
    fn before_its_anchor_nothing_is_handed_on_and_the_anchor_drops_what_it_covers() {
        let mut sequence = UserSequence::default();
        assert_eq!(sequence.offer(5, "five"), Next::default());
        assert_eq!(sequence.offer(7, "seven"), Next::default());
        let next = sequence.anchor(5);
        assert_eq!(delivered(&next), Vec::<u64>::new());
        assert_eq!(next.read_after, Some(5), "6 is missing");
        let next = sequence.offer(6, "six");
        assert_eq!(delivered(&next), vec![6, 7]);
    }

    #[test]
    fn a_later_anchor_only_tells_what_exists() {
        let mut sequence = anchored_at(3);
        let next = sequence.anchor(5);
        assert_eq!(sequence.head(), Some(3));
        assert_eq!(next.read_after, Some(3));
    }

    #[test]
    fn a_latest_seq_ahead_asks_for_a_read_and_an_equal_one_does_not() {
        let mut sequence = anchored_at(2);
        assert_eq!(sequence.learned_latest(2), Next::default());
        assert_eq!(sequence.learned_latest(3).read_after, Some(2));
        assert_eq!(
            sequence.learned_latest(4).read_after,
            None,
            "already planned"
        );
    }

    #[test]
    fn a_read_that_finds_nothing_new_does_not_loop() {
        let mut sequence = anchored_at(2);
        assert_eq!(sequence.offer(4, "four").read_after, Some(2));
        sequence.confirm_read();
        let next = sequence.read_done(Vec::new(), 2);
        assert_eq!(next, Next::default());
        // The change waiting is still handed on once the gap fills.
        assert_eq!(delivered(&sequence.offer(3, "three")), vec![3, 4]);
    }

    #[test]
    fn a_failed_read_is_asked_for_again_by_the_next_change() {
        let mut sequence = anchored_at(1);
        assert_eq!(sequence.offer(3, "three").read_after, Some(1));
        sequence.read_failed();
        assert_eq!(sequence.offer(4, "four").read_after, Some(1));
    }

    #[test]
    fn skipping_past_a_pruned_log_goes_on_after_the_latest() {
        let mut sequence = anchored_at(1);
        sequence.offer(9, "nine");
        let next = sequence.skip_to(8);
        assert_eq!(delivered(&next), vec![9]);
        assert_eq!(sequence.head(), Some(9));
    }

    #[test]
    fn changes_held_ahead_are_bounded() {
        let mut sequence = anchored_at(0);
        for seq in 2..(2 + AHEAD_LIMIT as u64 + 10) {
            sequence.offer(seq, "x");
        }
        assert_eq!(sequence.ahead.len(), AHEAD_LIMIT);
        // The lowest are kept; the others come from the read.
        let next = sequence.offer(1, "one");
        assert_eq!(next.deliver.len(), AHEAD_LIMIT);
        assert_eq!(sequence.confirm_read(), Some(AHEAD_LIMIT as u64));
    }
}
