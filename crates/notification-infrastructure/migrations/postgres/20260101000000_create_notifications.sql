-- Notifications and each user's unread counter (PostgreSQL).
--
-- Notification ids are UUIDv7: they sort by creation time, so "newest first" is
-- ORDER BY id DESC, a keyset cursor is a plain `id < $n` / `id > $n`, and new rows
-- land at the right edge of every id-ordered index (no random page splits).
-- Times are timestamptz (microseconds, as the domain keeps them).

CREATE TABLE notifications (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    title       text        NOT NULL,
    message     text        NOT NULL,
    type        text        NOT NULL CHECK (type IN ('INFO', 'SUCCESS', 'WARNING', 'ERROR')),
    status      text        NOT NULL CHECK (status IN ('UNREAD', 'READ', 'ARCHIVED')),
    metadata    jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    archived_at timestamptz
);

-- get / update / delete look a row up by `id AND user_id`: the primary key.

-- The inbox page, the default listing (UNREAD and READ, newest first):
--   WHERE user_id = $1 AND status IN ('UNREAD', 'READ') [AND id < $n]
--   ORDER BY id DESC LIMIT $m
-- A partial index of inbox rows only, in id order within each user: the page is
-- one backward index scan that stops after LIMIT rows, however many archived
-- notifications the user keeps. The query repeats this exact predicate, so the
-- planner can prove the index applies.
CREATE INDEX notifications_inbox_by_user
    ON notifications (user_id, id)
    WHERE status IN ('UNREAD', 'READ');

-- A listing of one status (WHERE user_id = $1 AND status = $2 [AND id < $n]
-- ORDER BY id DESC LIMIT $m) and mark_all_read (WHERE user_id = $1 AND
-- status = 'UNREAD'): equality on the first two columns, then rows already in id
-- order, so again a scan bounded by LIMIT (or by the unread rows).
CREATE INDEX notifications_by_user_status
    ON notifications (user_id, status, id);

-- list_after, replaying what a reconnecting client missed, of every status
-- (WHERE user_id = $1 AND id > $2 ORDER BY id ASC LIMIT $3): a forward index
-- scan from the cursor.
CREATE INDEX notifications_by_user
    ON notifications (user_id, id);

-- How many of the user's notifications are UNREAD, changed in the same
-- transaction as every write so that reading the count never needs count(*).
-- The row lock on a user's counter also orders that user's concurrent writes.
-- A user with no row has none.
CREATE TABLE unread_counters (
    user_id      uuid   PRIMARY KEY,
    unread_count bigint NOT NULL CHECK (unread_count >= 0)
);
