//! Which notifications the subscription has already yielded, in bounded memory.
//!
//! Delivery is at least once: a notification created while a `since` replay
//! runs comes both replayed and live, and a REST catch-up overlaps the live
//! stream. Ids are UUIDv7, so they sort by creation time; the window keeps the
//! newest `capacity` ids seen. The newest of them is also where a reconnect
//! resumes (`?since=`).

use std::collections::BTreeSet;

use uuid::Uuid;

/// The newest notification ids seen, at most `capacity` of them.
#[derive(Debug, Clone)]
pub struct SeenWindow {
    capacity: usize,
    ids: BTreeSet<Uuid>,
    /// Seen ids whose notification was deleted since: a resume point must name
    /// an existing notification (the server answers `unknown_since` otherwise).
    deleted: BTreeSet<Uuid>,
}

impl SeenWindow {
    /// A window remembering up to `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            ids: BTreeSet::new(),
            deleted: BTreeSet::new(),
        }
    }

    /// Records `id`. `true` the first time: the notification is new and is to
    /// be yielded. `false` for an id seen before, and for an id older than
    /// every id a full window remembers (it was seen and forgotten: only a
    /// duplicate can be that old, since every resume asks for newer ids).
    pub fn insert(&mut self, id: Uuid) -> bool {
        if self.ids.len() >= self.capacity && self.ids.first().is_some_and(|oldest| id < *oldest) {
            return false;
        }
        if !self.ids.insert(id) {
            return false;
        }
        while self.ids.len() > self.capacity {
            if let Some(oldest) = self.ids.pop_first() {
                self.deleted.remove(&oldest);
            }
        }
        true
    }

    /// Whether `id` was seen (and is still remembered).
    pub fn contains(&self, id: Uuid) -> bool {
        self.ids.contains(&id)
    }

    /// Notes that a seen notification was deleted, so that it is no longer
    /// used as a resume point.
    pub fn mark_deleted(&mut self, id: Uuid) {
        if self.ids.contains(&id) {
            self.deleted.insert(id);
        }
    }

    /// Where a reconnect resumes: the newest seen id that still exists; when
    /// all were deleted, the newest one anyway (the server then reports
    /// `unknown_since` and the client catches up over REST); `None` when
    /// nothing was seen.
    pub fn resume_point(&self) -> Option<Uuid> {
        self.ids
            .iter()
            .rev()
            .find(|id| !self.deleted.contains(id))
            .or_else(|| self.ids.last())
            .copied()
    }

    /// Whether nothing was seen yet.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids in creation order (UUIDv7 from increasing timestamps).
    fn ids(n: usize) -> Vec<Uuid> {
        (0..n)
            .map(|i| {
                let ts = uuid::Timestamp::from_unix(uuid::NoContext, 1_700_000_000 + i as u64, 0);
                Uuid::new_v7(ts)
            })
            .collect()
    }

    #[test]
    fn an_id_is_new_once() {
        let [a, b] = ids(2)[..] else { unreachable!() };
        let mut seen = SeenWindow::new(8);
        assert!(seen.insert(a));
        assert!(seen.insert(b));
        assert!(!seen.insert(a));
        assert!(!seen.insert(b));
    }

    #[test]
    fn memory_is_bounded_and_forgotten_old_ids_still_count_as_seen() {
        let all = ids(10);
        let mut seen = SeenWindow::new(3);
        for id in &all {
            assert!(seen.insert(*id));
        }
        assert!(!seen.contains(all[0]));
        assert!(seen.contains(all[9]));
        // A duplicate older than anything remembered is still not new.
        assert!(!seen.insert(all[2]));
        assert!(!seen.insert(all[8]));
    }

    #[test]
    fn a_window_that_is_not_full_accepts_older_ids() {
        let all = ids(3);
        let mut seen = SeenWindow::new(8);
        assert!(seen.insert(all[2]));
        assert!(seen.insert(all[0]));
        assert_eq!(seen.resume_point(), Some(all[2]));
    }

    #[test]
    fn resumes_after_the_newest_notification_that_still_exists() {
        let all = ids(3);
        let mut seen = SeenWindow::new(8);
        assert_eq!(seen.resume_point(), None);
        for id in &all {
            seen.insert(*id);
        }
        assert_eq!(seen.resume_point(), Some(all[2]));
        seen.mark_deleted(all[2]);
        assert_eq!(seen.resume_point(), Some(all[1]));
        seen.mark_deleted(all[0]);
        seen.mark_deleted(all[1]);
        assert_eq!(
            seen.resume_point(),
            Some(all[2]),
            "all deleted: newest anyway"
        );
    }

    #[test]
    fn a_deleted_id_is_still_not_yielded_again() {
        let [a] = ids(1)[..] else { unreachable!() };
        let mut seen = SeenWindow::new(8);
        seen.insert(a);
        seen.mark_deleted(a);
        assert!(!seen.insert(a));
    }
}
