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

/// The row as stored, for the writer (which knows the user's watermark as
/// of its batch, see `write_batch`).
pub(crate) const GET_NOTIFICATION: &str = concat!(
    "SELECT ",
    notification_columns!(),
    " FROM notifications WHERE id = $1 AND user_id = $2"
);

/// The row and its user's read watermark in one statement (two primary-key
/// lookups), for reads: see `row::WatermarkedRow`.
pub(crate) const GET_WATERMARKED_NOTIFICATION: &str = concat!(
    "SELECT ",
    notification_columns!(),
    ", read_all_seq, read_all_at FROM notifications LEFT JOIN (",
    "SELECT read_all_seq, read_all_at FROM unread_counters WHERE user_id = $2",
    ") AS watermark ON true WHERE id = $1 AND user_id = $2"
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
/// user's counter, which every write of the user takes first. The whole
/// row is written with the change's seq (`changed_seq`), so a later
/// read-all covers it again and an earlier one no longer does.
pub(crate) const UPDATE_STATUS: &str = "\
    UPDATE notifications SET status = $1, read_at = $2, archived_at = $3, changed_seq = $6 \
    WHERE id = $4 AND user_id = $5";

/// Rewrites up to `$4` rows that the read-all of seq `$3` covers as stored
/// READ at its time `$1` (the materializer; see `read_watermark`). What the
/// user sees does not change. A range of `notifications_by_user_status`.
pub(crate) const MATERIALIZE_READ_ALL: &str = "\
    UPDATE notifications SET status = 'READ', read_at = $1 \
    WHERE id IN (SELECT id FROM notifications \
        WHERE user_id = $2 AND status = 'UNREAD' AND coalesce(changed_seq, 0) < $3 LIMIT $4)";

/// Deletes the row; returns what the delete needs to judge its effect on
/// the unread count (see `read_watermark`).
pub(crate) const DELETE_NOTIFICATION: &str = "\
    DELETE FROM notifications WHERE id = $1 AND user_id = $2 RETURNING status, changed_seq";

/// Up to `$2` users from `$1` on whose latest read-all may still cover rows
/// stored UNREAD, in user order (a range of the partial index
/// `unread_counters_read_all_pending`).
pub(crate) const PENDING_READ_ALLS: &str = "\
    SELECT user_id FROM unread_counters WHERE read_all_pending AND user_id >= $1 \
    ORDER BY user_id LIMIT $2";

/// The user's counter row as a page needs it: the seq, and the read
/// watermark with whether rows it covers may still be stored UNREAD.
pub(crate) const GET_COUNTER: &str = "\
    SELECT seq, read_all_seq, read_all_at, read_all_pending FROM unread_counters \
    WHERE user_id = $1";

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
/// `$11`, a batch's list, is NULL for a single create.
pub(crate) const CLAIM_KEY: &str = "\
    INSERT INTO idempotency_keys \
        (publisher_id, idempotency_key, fingerprint, notification_id, user_id, \
         title, message, type, metadata, created_at_micros, batch_items) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
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
/// `list_inbox` is the database's form of [`LIST_INBOX`]. `pending` says
/// that the user's read-all may still cover rows stored UNREAD: then the
/// READ and UNREAD filters apply the watermark's rule (`read_watermark`) to
/// the stored status; otherwise the stored status is the one users see.
pub(crate) fn list_text(list_inbox: &str, query: &ListQuery, pending: bool) -> String {
    let mut text = match (query.filter, covered_filter(query, pending)) {
        (StatusFilter::Inbox, _) => format!("{list_inbox}$1"),
        // Stored READ and covered UNREAD rows: the inbox's index, newest
        // first, passing over the rows still unread.
        (_, Some(NotificationStatus::Read)) => {
            format!("{list_inbox}$1 AND (status = 'READ' OR coalesce(changed_seq, 0) < $2)")
        }
        (_, Some(_)) => {
            format!("{LIST_WITH_STATUS}$1 AND user_id = $2 AND coalesce(changed_seq, 0) >= $3")
        }
        (StatusFilter::Only(_), None) => format!("{LIST_WITH_STATUS}$1 AND user_id = $2"),
    };
    let mut next = text.matches('$').count() + 1;
    if query.before.is_some() {
        text.push_str(&format!(" AND id < ${next}"));
        next += 1;
    }
    text.push_str(&format!(" ORDER BY id DESC LIMIT ${next}"));
    text
}

/// The filter (READ or UNREAD) whose rows a pending read-all changes, if
/// the page has one.
fn covered_filter(query: &ListQuery, pending: bool) -> Option<NotificationStatus> {
    match query.filter {
        StatusFilter::Only(status @ (NotificationStatus::Read | NotificationStatus::Unread))
            if pending =>
        {
            Some(status)
        }
        _ => None,
    }
}

/// The values of [`list_text`]'s parameters, in its order.
pub(crate) struct ListParameters {
    pub(crate) status: Option<&'static str>,
    pub(crate) user_id: Uuid,
    /// The read-all's seq, when a filter applies the watermark.
    pub(crate) read_all_seq: Option<i64>,
    pub(crate) before: Option<Uuid>,
    pub(crate) limit: i64,
}

impl ListParameters {
    /// `pending`: the user's read-all seq, when it may still cover rows
    /// stored UNREAD (the `pending` of [`list_text`]).
    pub(crate) fn of(user_id: Uuid, query: &ListQuery, pending: Option<i64>) -> Self {
        let covered = covered_filter(query, pending.is_some());
        Self {
            status: match (query.filter, covered) {
                (StatusFilter::Inbox, _) | (_, Some(NotificationStatus::Read)) => None,
                (StatusFilter::Only(status), _) => Some(status.as_str()),
            },
            user_id,
            read_all_seq: covered.and(pending),
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
        let inbox = list_text("… user_id = ", &page(StatusFilter::Inbox, cursor), true);
        assert!(inbox.ends_with("user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"));
        let status = list_text("", &page(only_read, None), false);
        assert!(status.ends_with("status = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3"));
        let parameters = ListParameters::of(Uuid::nil(), &page(only_read, cursor), None);
        assert_eq!(parameters.status, Some("READ"));
        assert_eq!(parameters.read_all_seq, None);
        assert_eq!(parameters.before, cursor.map(|id| id.into_uuid()));
    }

    #[test]
    fn a_pending_read_all_puts_its_seq_after_the_user_in_the_read_and_unread_filters() {
        let cursor = Some(notification_domain::NotificationId::new());
        let page = |filter| ListQuery {
            filter,
            before: cursor,
            limit: 20,
        };
        let read = list_text("… user_id = ", &page(StatusFilter::Only(Read)), true);
        assert!(read.ends_with(
            "user_id = $1 AND (status = 'READ' OR coalesce(changed_seq, 0) < $2) \
             AND id < $3 ORDER BY id DESC LIMIT $4"
        ));
        let parameters = ListParameters::of(Uuid::nil(), &page(StatusFilter::Only(Read)), Some(7));
        assert_eq!(
            (parameters.status, parameters.read_all_seq),
            (None, Some(7))
        );
        let unread = list_text("", &page(StatusFilter::Only(Unread)), true);
        assert!(unread.ends_with(
            "status = $1 AND user_id = $2 AND coalesce(changed_seq, 0) >= $3 \
             AND id < $4 ORDER BY id DESC LIMIT $5"
        ));
        let parameters =
            ListParameters::of(Uuid::nil(), &page(StatusFilter::Only(Unread)), Some(7));
        assert_eq!(
            (parameters.status, parameters.read_all_seq),
            (Some("UNREAD"), Some(7))
        );
        let archived =
            ListParameters::of(Uuid::nil(), &page(StatusFilter::Only(Archived)), Some(7));
        assert_eq!(
            (archived.status, archived.read_all_seq),
            (Some("ARCHIVED"), None)
        );
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
