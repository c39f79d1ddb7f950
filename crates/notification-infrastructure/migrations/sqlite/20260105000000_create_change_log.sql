-- The per-user change sequence and the change log (contract §7) (SQLite).
--
-- The same design as the PostgreSQL migration of the same name (read it for
-- the reasons): `unread_counters.seq` is the user's latest change number,
-- taken with the counter by the batch writer; `notification_changes` keeps
-- each change with everything needed to rebuild its event. Ids are 16-byte
-- BLOBs, times RFC 3339 TEXT, metadata JSON TEXT, as in `notifications`.
ALTER TABLE unread_counters ADD COLUMN seq INTEGER NOT NULL DEFAULT 0 CHECK (seq >= 0);

-- Rows hold a create's content (several KiB at most), so a rowid table; the
-- primary key is a unique index.
CREATE TABLE notification_changes (
    user_id            BLOB    NOT NULL CHECK (length(user_id) = 16),
    seq                INTEGER NOT NULL CHECK (seq > 0),
    kind               TEXT    NOT NULL
        CHECK (kind IN ('created', 'read', 'unread', 'archive', 'delete', 'read_all')),
    notification_id    BLOB    CHECK (notification_id IS NULL OR length(notification_id) = 16),
    unread_count       INTEGER NOT NULL CHECK (unread_count >= 0),
    occurred_at_micros INTEGER NOT NULL,
    changed_at         TEXT,
    updated            INTEGER,
    title              TEXT,
    message            TEXT,
    type               TEXT,
    metadata           TEXT,
    created_at         TEXT,
    CHECK (kind <> 'created' OR (title IS NOT NULL AND created_at IS NOT NULL)),
    PRIMARY KEY (user_id, seq)
) STRICT;

-- No secondary index: each one is another page written by every commit of
-- the one writer (measured: the log cost 20 % CPU per create with two).
-- The purge takes the oldest rows by rowid, which on SQLite's single writer is
-- the order they were written in (see `sqlite_batch.rs`); creation_seq scans
-- the user's own rows (the primary key's range), which the retention bounds.
