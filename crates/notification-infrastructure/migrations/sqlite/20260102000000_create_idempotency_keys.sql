-- Idempotency keys of `POST /api/v1/notifications` (SQLite).
--
-- One row per publisher and key: the primary key is what decides a race
-- between two requests with the same key (on SQLite every write goes through
-- one connection, so the second simply finds the first's row). The key row is
-- inserted with ON CONFLICT DO NOTHING in the same transaction as the
-- notification.
--
-- `fingerprint` is the SHA-256 of the request (notification_domain's
-- RequestFingerprint): the same key with another fingerprint is refused.
-- The other columns are the notification as first created, answered on every
-- replay even after it was read, archived or deleted (so no foreign key): a
-- new notification is always UNREAD with no read or archive time, so those
-- are not stored.
--
-- `created_at_micros` is the notification's creation time in microseconds
-- since the Unix epoch. An integer, not RFC 3339 TEXT as in `notifications`:
-- that text does not sort (sub-second digits are trimmed, so '…:00Z' sorts
-- after '…:00.5Z'), and the purge and the expiry check compare times.
-- Rows can be several KiB (title, message, metadata), so a rowid table.

CREATE TABLE idempotency_keys (
    publisher_id      BLOB    NOT NULL CHECK (length(publisher_id) = 16),
    idempotency_key   TEXT    NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    fingerprint       BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    notification_id   BLOB    NOT NULL CHECK (length(notification_id) = 16),
    user_id           BLOB    NOT NULL CHECK (length(user_id) = 16),
    title             TEXT    NOT NULL,
    message           TEXT    NOT NULL,
    type              TEXT    NOT NULL CHECK (type IN ('INFO', 'SUCCESS', 'WARNING', 'ERROR')),
    metadata          TEXT    NOT NULL,
    created_at_micros INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, idempotency_key)
) STRICT;

-- The purge (DELETE … WHERE created_at_micros < ?) is a range scan of the
-- expired keys only, however many live ones there are.
CREATE INDEX idempotency_keys_by_created_at
    ON idempotency_keys (created_at_micros);
