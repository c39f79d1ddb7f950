-- A cheap read-all: a per-user read watermark (SQLite).
--
-- The same design as the PostgreSQL migration of the same name (read it for
-- the reasons): the counter row keeps the latest read-all's seq and time and
-- whether rows it covers may still be stored UNREAD; each notification keeps
-- the seq of its creation or latest status change (NULL: written before this
-- migration, older than any watermark). `read_all_at` is RFC 3339 TEXT like
-- every time of `notifications`; `read_all_pending` is 0 or 1.
ALTER TABLE unread_counters
    ADD COLUMN read_all_seq INTEGER NOT NULL DEFAULT 0 CHECK (read_all_seq >= 0);
ALTER TABLE unread_counters ADD COLUMN read_all_at TEXT;
ALTER TABLE unread_counters
    ADD COLUMN read_all_pending INTEGER NOT NULL DEFAULT 0 CHECK (read_all_pending IN (0, 1));

ALTER TABLE notifications ADD COLUMN changed_seq INTEGER;

-- The materializer's search for counters still pending: a partial index of
-- those few (the query repeats the predicate, so SQLite can use it).
CREATE INDEX unread_counters_read_all_pending
    ON unread_counters (user_id)
    WHERE read_all_pending;
