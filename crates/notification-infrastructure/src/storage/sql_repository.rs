//! The repository's SQL, written once for both databases, and the counting
//! rules every write shares.
//!
//! The statements use only what SQLite and PostgreSQL share: `$n` parameters
//! (sqlx maps them on SQLite too), `RETURNING`, `ON CONFLICT … DO NOTHING`,
//! and the same Rust types bound and read (see [`super::row`]). Reads run
//! them in `repository`; writes in the writer's batches (`write_batch`, over
//! `sql_statements`). Only statements that take a whole batch at once are
//! written per database (`sqlite_batch`, `postgres_batch`).

use notification_domain::{ListQuery, NotificationStatus, RepositoryError, StatusFilter};
use uuid::Uuid;

use super::change_log::change_columns;
use super::idempotency_row::idempotency_columns;
use super::row::notification_columns;

pub(crate) const GET_NOTIFICATION: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE id = $1 AND user_id = $2"
);

/// The start of an inbox page; [`list_text`] appends the user, the
/// cursor, the order and the limit. The status condition is exactly the
/// predicate of the partial index `notifications_inbox_by_user`: PostgreSQL
/// uses that index only when the query repeats it.
pub(crate) const LIST_INBOX: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE status IN ('UNREAD', 'READ') AND user_id = "
);

/// [`LIST_INBOX`] for SQLite, which names the index: without statistics
/// (ANALYZE) SQLite's planner may rate another index of the user's rows as
/// good as the partial index (it picked `notifications_by_user`, dropped
/// since), then walk the user's archived rows too.
/// `INDEXED BY` pins the plan, and turns a dropped index into an error instead
/// of a slow query.
pub(crate) const LIST_INBOX_SQLITE: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications INDEXED BY notifications_inbox_by_user",
    " WHERE status IN ('UNREAD', 'READ') AND user_id = "
);

/// A read-only transaction that sees one snapshot of the database, for reads
/// of two statements that must agree (a page and the latest seq). SQLite's
/// deferred transaction reads one snapshot of its write-ahead log.
pub(crate) const BEGIN_SNAPSHOT_SQLITE: &str = "BEGIN";
pub(crate) const BEGIN_SNAPSHOT_POSTGRES: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// The positions of the users in `$1`, a JSON array of UUIDs in their
/// hyphenated form (the same parameter on both databases).
pub(crate) const LATEST_SEQS_SQLITE: &str = "\
    SELECT user_id, seq, unread_count FROM unread_counters \
    WHERE user_id IN (SELECT unhex(replace(value, '-', '')) FROM json_each($1))";
pub(crate) const LATEST_SEQS_POSTGRES: &str = "\
    SELECT user_id, seq, unread_count FROM unread_counters \
    WHERE user_id IN (SELECT value::uuid FROM json_array_elements_text($1::json))";

/// The start of a page of one status; [`list_text`] appends the status,
/// the user, the cursor, the order and the limit.
pub(crate) const LIST_WITH_STATUS: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE status = "
);

/// The row cannot have changed since it was read: the writer holds the
/// user's counter, which every write of the user takes first.
pub(crate) const UPDATE_STATUS: &str = "\
    UPDATE notifications SET status = $1, read_at = $2, archived_at = $3 \
    WHERE id = $4 AND user_id = $5";

pub(crate) const MARK_ALL_READ: &str = "\
    UPDATE notifications SET status = 'READ', read_at = $1 \
    WHERE user_id = $2 AND status = 'UNREAD'";

pub(crate) const DELETE_NOTIFICATION: &str =
    "DELETE FROM notifications WHERE id = $1 AND user_id = $2 RETURNING status";

/// The user's count and latest seq, one row read at once (no row: no change
/// yet, count 0).
pub(crate) const GET_POSITION: &str =
    "SELECT seq, unread_count FROM unread_counters WHERE user_id = $1";

/// The user's changes with `$2 < seq <= $3`, in order. The upper bound is the
/// latest seq read just before: under READ COMMITTED this statement sees a
/// later snapshot, and every change up to that seq committed with its counter.
pub(crate) const LIST_CHANGES: &str = concat!(
    "SELECT ",
    change_columns!(),
    " FROM notification_changes WHERE user_id = $1 AND seq > $2 AND seq <= $3",
    " ORDER BY seq LIMIT $4"
);

/// A range scan of the user's rows (no index on `notification_id`: see the
/// migration `create_change_log`).
pub(crate) const CREATION_SEQ: &str = "\
    SELECT seq FROM notification_changes \
    WHERE user_id = $2 AND notification_id = $1 AND kind = 'created'";

/// Forgets the publisher's key if it expired: an expired key is as good as new.
pub(crate) const FORGET_EXPIRED_KEY: &str = "\
    DELETE FROM idempotency_keys \
    WHERE publisher_id = $1 AND idempotency_key = $2 AND created_at_micros < $3";

/// Records a key, unless the publisher already has it: then nothing happens
/// (0 rows affected). On PostgreSQL a concurrent insert of the same key makes
/// this wait until that transaction ends, so exactly one of them inserts.
pub(crate) const CLAIM_KEY: &str = "\
    INSERT INTO idempotency_keys \
        (publisher_id, idempotency_key, fingerprint, notification_id, user_id, \
         title, message, type, metadata, created_at_micros) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (publisher_id, idempotency_key) DO NOTHING";

pub(crate) const GET_KEY: &str = concat!(
    "SELECT ",
    idempotency_columns!(),
    " FROM idempotency_keys WHERE publisher_id = $1 AND idempotency_key = $2"
);

/// Deletes up to `$2` keys older than `$1`, the oldest first. A bounded
/// chunk: `DELETE … LIMIT` is not standard SQL (PostgreSQL lacks it), so the
/// chunk is chosen by a subquery on the age index and deleted by primary key.
pub(crate) const PURGE_KEYS: &str = "\
    DELETE FROM idempotency_keys WHERE (publisher_id, idempotency_key) IN ( \
        SELECT publisher_id, idempotency_key FROM idempotency_keys \
        WHERE created_at_micros < $1 ORDER BY created_at_micros LIMIT $2)";

/// Up to `$2` notifications of every user created before `$1`, the oldest
/// first: ids are UUIDv7, so `$1` is the smallest id of that millisecond
/// ([`first_id_at`]) and the primary key's order is creation order. One
/// range scan of the primary key, however many rows are kept.
pub(crate) const EXPIRED_NOTIFICATIONS: &str =
    "SELECT user_id, id FROM notifications WHERE id < $1 ORDER BY id LIMIT $2";

/// The smallest UUIDv7 of the millisecond of `at` (its random bits all zero):
/// every id created earlier sorts before it (as bytes, on both databases).
pub(crate) fn first_id_at(at: time::OffsetDateTime) -> Uuid {
    let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid()
}

pub(crate) const PING: &str = "SELECT 1";

/// The text of one page of a user's notifications, newest first, with its
/// parameters numbered in the order [`ListParameters`] gives them.
/// `list_inbox` is the database's form of [`LIST_INBOX`].
pub(crate) fn list_text(list_inbox: &str, query: &ListQuery) -> String {
    let mut text = match query.filter {
        StatusFilter::Inbox => format!("{list_inbox}$1"),
        StatusFilter::Only(_) => format!("{LIST_WITH_STATUS}$1 AND user_id = $2"),
    };
    let mut next = if query.filter == StatusFilter::Inbox {
        2
    } else {
        3
    };
    if query.before.is_some() {
        text.push_str(&format!(" AND id < ${next}"));
        next += 1;
    }
    text.push_str(&format!(" ORDER BY id DESC LIMIT ${next}"));
    text
}

/// The values of [`list_text`]'s parameters, in its order.
pub(crate) struct ListParameters {
    pub(crate) status: Option<&'static str>,
    pub(crate) user_id: Uuid,
    pub(crate) before: Option<Uuid>,
    pub(crate) limit: i64,
}

impl ListParameters {
    pub(crate) fn of(user_id: Uuid, query: &ListQuery) -> Self {
        Self {
            status: match query.filter {
                StatusFilter::Inbox => None,
                StatusFilter::Only(status) => Some(status.as_str()),
            },
            user_id,
            before: query.before.map(|id| id.into_uuid()),
            limit: i64::from(query.limit),
        }
    }
}

/// How the user's unread count changes when a notification goes from `from` to
/// `to`: −1 when it leaves UNREAD, +1 when it comes back, else 0.
pub(crate) fn unread_delta(from: NotificationStatus, to: NotificationStatus) -> i64 {
    unread_weight(to) - unread_weight(from)
}

/// 1 for an UNREAD notification, else 0: what it adds to the unread count.
pub(crate) fn unread_weight(status: NotificationStatus) -> i64 {
    i64::from(status == NotificationStatus::Unread)
}

/// The counter column as the port's `u64`. The schema forbids negative values,
/// so one can only come from a database edited by hand.
pub(crate) fn unread_count_value(count: i64) -> Result<u64, RepositoryError> {
    u64::try_from(count)
        .map_err(|_| RepositoryError::Corrupt(format!("negative unread count {count}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotificationStatus::{Archived, Read, Unread};

    #[test]
    fn leaving_unread_lowers_the_count_and_coming_back_raises_it() {
        assert_eq!(unread_delta(Unread, Read), -1);
        assert_eq!(unread_delta(Unread, Archived), -1);
        assert_eq!(unread_delta(Read, Unread), 1);
        assert_eq!(unread_delta(Archived, Unread), 1);
        assert_eq!(unread_delta(Read, Archived), 0);
    }

    #[test]
    fn a_page_numbers_its_parameters_in_the_order_they_are_bound() {
        let cursor = Some(notification_domain::NotificationId::new());
        let page = |filter, before| ListQuery {
            filter,
            before,
            limit: 20,
        };
        let only_read = StatusFilter::Only(Read);
        let inbox = list_text("… user_id = ", &page(StatusFilter::Inbox, cursor));
        assert!(inbox.ends_with("user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"));
        let status = list_text("", &page(only_read, None));
        assert!(status.ends_with("status = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3"));
        let parameters = ListParameters::of(Uuid::nil(), &page(only_read, cursor));
        assert_eq!(parameters.status, Some("READ"));
        assert_eq!(parameters.before, cursor.map(|id| id.into_uuid()));
    }

    #[test]
    fn the_first_id_of_a_millisecond_sorts_after_every_earlier_id_and_not_after_later_ones() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let earlier = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_699_999_999,
            999_000_000,
        ));
        let later = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_700_000_000,
            1_000_000,
        ));
        let boundary = first_id_at(at);
        assert!(earlier.as_bytes() < boundary.as_bytes());
        assert!(later.as_bytes() > boundary.as_bytes());
        assert_eq!(boundary.get_version_num(), 7);
    }

    #[test]
    fn a_negative_stored_count_is_reported_as_corrupt() {
        assert_eq!(unread_count_value(3).unwrap(), 3);
        assert!(matches!(
            unread_count_value(-1),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
