//! The unread counts of a batch of new notifications, from one counter change
//! per user.
//!
//! A batch changes each user's counter once, by the number of its UNREAD
//! notifications in the batch, and the database returns each counter's value
//! after the whole batch. Each notification's own count (what its push
//! carries) is then that value minus what the user's later notifications in
//! the batch added: the same numbers as if they had been written one by one in
//! batch order, because the batch's transaction holds every counter it changes
//! until it commits.

use std::collections::{BTreeMap, HashMap};

use notification_domain::{Notification, RepositoryError};
use uuid::Uuid;

use super::sql_repository::{unread_count_value, unread_weight};

/// How much a batch adds to each of its users' counters.
pub(crate) struct UnreadIncrements {
    /// Ascending: counters are changed in this order, so two batches that
    /// share users lock their counters in the same order and cannot deadlock.
    users: Vec<Uuid>,
    amounts: Vec<i64>,
}

impl UnreadIncrements {
    pub(crate) fn of(batch: &[Notification]) -> Self {
        let mut per_user: BTreeMap<Uuid, i64> = BTreeMap::new();
        for notification in batch {
            *per_user
                .entry(notification.user_id().into_uuid())
                .or_default() += unread_weight(notification.status());
        }
        let (users, amounts) = per_user.into_iter().unzip();
        Self { users, amounts }
    }

    /// The users, ascending, each once.
    pub(crate) fn users(&self) -> &[Uuid] {
        &self.users
    }

    /// What to add to each counter of [`Self::users`] (zero or more).
    pub(crate) fn amounts(&self) -> &[i64] {
        &self.amounts
    }

    /// Every user's `(user, count after the whole batch)` from the counts
    /// read just before it (a user without a counter row has none), for a
    /// database that cannot return the counters it changed.
    pub(crate) fn totals_after(&self, before: Vec<(Uuid, i64)>) -> Vec<(Uuid, i64)> {
        let before: HashMap<Uuid, i64> = before.into_iter().collect();
        self.users
            .iter()
            .zip(&self.amounts)
            .map(|(user, amount)| (*user, before.get(user).copied().unwrap_or(0) + amount))
            .collect()
    }

    /// Each notification's unread count right after it, in batch order, from
    /// every user's `(user, count after the whole batch)`.
    pub(crate) fn counts_after_each(
        &self,
        batch: &[Notification],
        totals: Vec<(Uuid, i64)>,
    ) -> Result<Vec<u64>, RepositoryError> {
        let mut running: HashMap<Uuid, i64> = totals.into_iter().collect();
        let mut counts = Vec::with_capacity(batch.len());
        // Backwards: the user's last notification has the final count.
        for notification in batch.iter().rev() {
            let user = notification.user_id().into_uuid();
            let count = running.get_mut(&user).ok_or_else(|| {
                RepositoryError::Corrupt(format!("no unread count returned for user {user}"))
            })?;
            counts.push(unread_count_value(*count)?);
            *count -= unread_weight(notification.status());
        }
        counts.reverse();
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use notification_domain::{now, NotificationDraft, NotificationId, StoredNotification, UserId};
    use serde_json::Map;

    use super::*;

    fn new_for(user: Uuid) -> Notification {
        let draft =
            NotificationDraft::parse(UserId::from_uuid(user), "t", "m", None, None).unwrap();
        Notification::new(draft, NotificationId::new(), now())
    }

    fn read_for(user: Uuid) -> Notification {
        let at = now();
        Notification::restore(StoredNotification {
            id: NotificationId::new(),
            user_id: UserId::from_uuid(user),
            title: "t".into(),
            message: "m".into(),
            notification_type: "INFO".into(),
            status: "READ".into(),
            metadata: Map::new().into(),
            created_at: at,
            read_at: Some(at),
            archived_at: None,
        })
        .unwrap()
    }

    #[test]
    fn one_change_per_user_in_ascending_order_counting_only_unread() {
        let (a, b) = (Uuid::from_u128(2), Uuid::from_u128(1));
        let batch = [new_for(a), new_for(b), read_for(a), new_for(a)];
        let increments = UnreadIncrements::of(&batch);
        assert_eq!(increments.users(), [b, a]);
        assert_eq!(increments.amounts(), [1, 2]);
    }

    #[test]
    fn each_notification_gets_the_count_it_would_have_had_written_alone() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        // a had 5 before, b had none.
        let batch = [new_for(a), new_for(b), read_for(a), new_for(a)];
        let increments = UnreadIncrements::of(&batch);
        let counts = increments
            .counts_after_each(&batch, vec![(a, 7), (b, 1)])
            .unwrap();
        assert_eq!(counts, [6, 1, 6, 7]);
    }

    #[test]
    fn the_totals_after_a_batch_are_the_counts_before_plus_what_it_adds() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let batch = [new_for(a), new_for(b), read_for(a), new_for(a)];
        let increments = UnreadIncrements::of(&batch);
        // b never had a counter.
        assert_eq!(increments.totals_after(vec![(a, 5)]), [(a, 7), (b, 1)]);
    }

    #[test]
    fn a_user_missing_from_the_totals_is_corrupt() {
        let batch = [new_for(Uuid::from_u128(1))];
        let increments = UnreadIncrements::of(&batch);
        assert!(matches!(
            increments.counts_after_each(&batch, Vec::new()),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
