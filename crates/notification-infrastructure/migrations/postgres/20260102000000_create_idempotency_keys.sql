-- Idempotency keys of `POST /api/v1/notifications` (PostgreSQL).
--
-- One row per publisher and key: the primary key is what decides a race
-- between two requests with the same key. The request inserts its key row
-- with ON CONFLICT DO NOTHING in the same transaction as the notification (key
-- row first); a concurrent request with the same key waits on the unique
-- index until the first commits, inserts nothing, and reads the winner's row.
--
-- `fingerprint` is the SHA-256 of the request (notification_domain's
-- RequestFingerprint): the same key with another fingerprint is refused.
-- The other columns are the notification as first created, answered on every
-- replay even after it was read, archived or deleted (so no foreign key): a
-- new notification is always UNREAD with no read or archive time, so those
-- are not stored.
--
-- `created_at_micros` is the notification's creation time in microseconds
-- since the Unix epoch: an integer, like in the SQLite schema, so that the
-- same statements compare it on both databases.

CREATE TABLE idempotency_keys (
    publisher_id      uuid   NOT NULL,
    idempotency_key   text   NOT NULL CHECK (octet_length(idempotency_key) BETWEEN 1 AND 255),
    fingerprint       bytea  NOT NULL CHECK (octet_length(fingerprint) = 32),
    notification_id   uuid   NOT NULL,
    user_id           uuid   NOT NULL,
    title             text   NOT NULL,
    message           text   NOT NULL,
    type              text   NOT NULL CHECK (type IN ('INFO', 'SUCCESS', 'WARNING', 'ERROR')),
    metadata          jsonb  NOT NULL,
    created_at_micros bigint NOT NULL,
    PRIMARY KEY (publisher_id, idempotency_key)
);

-- The purge (DELETE … WHERE created_at_micros < $1) is a range scan of the
-- expired keys only, however many live ones there are.
CREATE INDEX idempotency_keys_by_created_at
    ON idempotency_keys (created_at_micros);
