-- Notifications and each user's unread counter (SQLite).
--
-- Ids are UUIDs stored as 16-byte BLOBs. Notification ids are UUIDv7, whose
-- big-endian bytes begin with the creation time in milliseconds, so comparing the
-- BLOBs (memcmp) orders notifications by creation time: "newest first" is
-- ORDER BY id DESC and a keyset cursor is a plain `id < ?` / `id > ?`.
-- Times are RFC 3339 TEXT in UTC with microseconds (how sqlx writes an
-- OffsetDateTime); nothing sorts or filters on them. `metadata` is the compact
-- JSON text of an object.
-- STRICT makes SQLite refuse a value of the wrong type instead of storing it.

CREATE TABLE notifications (
    id          BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    user_id     BLOB NOT NULL CHECK (length(user_id) = 16),
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('INFO', 'SUCCESS', 'WARNING', 'ERROR')),
    status      TEXT NOT NULL CHECK (status IN ('UNREAD', 'READ', 'ARCHIVED')),
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    read_at     TEXT,
    archived_at TEXT
) STRICT;

-- get / update / delete look a row up by `id AND user_id`: the primary key.

-- The inbox page, the default listing (UNREAD and READ, newest first):
--   WHERE user_id = ? AND status IN ('UNREAD', 'READ') [AND id < ?]
--   ORDER BY id DESC LIMIT ?
-- A partial index of inbox rows only, in id order within each user: the page is
-- one backward range scan that stops after LIMIT rows, however many archived
-- notifications the user keeps. The query repeats this exact predicate, which is
-- how SQLite recognises that a partial index applies.
CREATE INDEX notifications_inbox_by_user
    ON notifications (user_id, id)
    WHERE status IN ('UNREAD', 'READ');

-- A listing of one status (WHERE user_id = ? AND status = ? [AND id < ?]
-- ORDER BY id DESC LIMIT ?) and mark_all_read (WHERE user_id = ? AND
-- status = 'UNREAD'): equality on the first two columns, then rows already in id
-- order, so again a range scan bounded by LIMIT (or by the unread rows).
CREATE INDEX notifications_by_user_status
    ON notifications (user_id, status, id);

-- list_after, replaying what a reconnecting client missed, of every status
-- (WHERE user_id = ? AND id > ? ORDER BY id ASC LIMIT ?): a forward range scan
-- from the cursor.
CREATE INDEX notifications_by_user
    ON notifications (user_id, id);

-- How many of the user's notifications are UNREAD, changed in the same
-- transaction as every write so that reading the count never needs count(*).
-- A user with no row has none.
CREATE TABLE unread_counters (
    user_id      BLOB    NOT NULL PRIMARY KEY CHECK (length(user_id) = 16),
    unread_count INTEGER NOT NULL CHECK (unread_count >= 0)
) STRICT, WITHOUT ROWID;
