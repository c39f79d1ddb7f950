-- The per-user change sequence and the change log (contract §7) (PostgreSQL).
--
-- `unread_counters.seq` is the number of the user's latest change (0 before the
-- first). Every write takes the counter row first (see `write_batch.rs`), so the
-- next number is simply seq + 1, assigned in the change's own transaction:
-- no gap (a rolled-back transaction assigns nothing) and no reuse. Never a
-- database SEQUENCE, whose rolled-back numbers would leave holes.
-- Users who changed something before this migration start at 0: their
-- existing notifications have no creation seq (a `since` naming one gets
-- `unknown_since`).
ALTER TABLE unread_counters ADD COLUMN seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0);

-- One row per change, written in the change's transaction, with everything
-- needed to rebuild the domain event published for it, so a replay is the very
-- message a connected client received:
--   kind               created | read | unread | archive | delete | read_all
--   notification_id    null for read_all
--   unread_count       the user's count right after the change
--   occurred_at_micros the event's `occurred_at` (µs since the Unix epoch; an
--                      integer, as in SQLite, so the purge compares the same way)
--   changed_at         read_at (read, read_all) or archived_at (archive)
--   updated            read_all: how many notifications it marked read
--   title … created_at a create's content, copied from the new notification row
--                      in the same statement: a deleted notification's content
--                      stays here until the row is pruned (SYNC_LOG_RETENTION).
-- The format evolves by migrations like every table: a new kind or column is
-- added with a default, and code reading a row it does not know (a kind from a
-- newer version during a rolling deploy) reports it as corrupt rather than
-- guessing.
CREATE TABLE notification_changes (
    user_id            uuid        NOT NULL,
    seq                bigint      NOT NULL CHECK (seq > 0),
    kind               text        NOT NULL
        CHECK (kind IN ('created', 'read', 'unread', 'archive', 'delete', 'read_all')),
    notification_id    uuid,
    unread_count       bigint      NOT NULL CHECK (unread_count >= 0),
    occurred_at_micros bigint      NOT NULL,
    changed_at         timestamptz,
    updated            bigint,
    title              text,
    message            text,
    type               text,
    metadata           jsonb,
    created_at         timestamptz,
    -- A create without its content would replay as a broken message: refuse it.
    CHECK (kind <> 'created' OR (title IS NOT NULL AND created_at IS NOT NULL)),
    -- changes_after: WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3,
    -- a forward range scan of the primary key.
    PRIMARY KEY (user_id, seq)
);

-- The purge (the oldest rows first, in chunks): a range scan of the expired rows.
CREATE INDEX notification_changes_by_age
    ON notification_changes (occurred_at_micros);

-- creation_seq (`?since=<notification_id>`, v1 resume) has no index of its own:
-- it scans the user's rows of the primary key, bounded by SYNC_LOG_RETENTION,
-- rather than every create paying for one more index.
