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

CREATE INDEX notification_changes_by_age
    ON notification_changes (occurred_at_micros);

CREATE INDEX notification_changes_creations
    ON notification_changes (notification_id)
    WHERE kind = 'created';
