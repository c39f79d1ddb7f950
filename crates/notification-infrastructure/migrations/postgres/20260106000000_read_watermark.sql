-- A cheap read-all: a per-user read watermark (PostgreSQL).
--
-- A read-all used to rewrite every UNREAD row of the user in its one
-- transaction (seconds for tens of thousands of rows, holding the user's
-- counter, and on SQLite the only writer, all along). Now it is one update of
-- the counter row and one change-log row:
--   read_all_seq      the seq of the user's latest read-all (0: never)
--   read_all_at       its read_at
--   read_all_pending  rows it covers may still be stored UNREAD (the
--                     materializer has not rewritten them yet)
-- and each notification keeps `changed_seq`, the seq of its creation or of
-- its latest status change (NULL for rows written before this migration:
-- older than any watermark).
--
-- The rule, applied wherever a row is read or judged (storage/read_watermark.rs
-- in Rust, the status filters in SQL): a row stored UNREAD whose
-- coalesce(changed_seq, 0) < read_all_seq IS READ, with read_at = read_all_at.
-- Old counters get 0 / NULL / false: nothing is covered, every row reads as
-- stored.
ALTER TABLE unread_counters
    ADD COLUMN read_all_seq bigint NOT NULL DEFAULT 0 CHECK (read_all_seq >= 0),
    ADD COLUMN read_all_at timestamptz,
    ADD COLUMN read_all_pending boolean NOT NULL DEFAULT false;

ALTER TABLE notifications ADD COLUMN changed_seq bigint;

-- The materializer looks for counters whose read-all still covers stored
-- UNREAD rows; there are few at any time, so a partial index of just those.
CREATE INDEX unread_counters_read_all_pending
    ON unread_counters (user_id)
    WHERE read_all_pending;
