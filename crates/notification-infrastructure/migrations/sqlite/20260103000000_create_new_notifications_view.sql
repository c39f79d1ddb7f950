-- A batch of new notifications in one statement (SQLite).
--
-- The repository writes new notifications in batches (group commit). Inserting
-- a batch into this view inserts each row into `notifications` and adds it to
-- its user's unread counter, in one statement: SQLite runs a single statement
-- as its own transaction (all rows and counters, or nothing), so a batch needs
-- no BEGIN/COMMIT and no statement journal, and its worker thread is handed
-- the work once instead of once per statement. Nothing reads from the view.

CREATE VIEW new_notifications AS
    SELECT id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at
    FROM notifications;

CREATE TRIGGER new_notifications_insert INSTEAD OF INSERT ON new_notifications
BEGIN
    INSERT INTO notifications
        (id, user_id, title, message, type, status, metadata, created_at, read_at, archived_at)
    VALUES
        (NEW.id, NEW.user_id, NEW.title, NEW.message, NEW.type, NEW.status, NEW.metadata,
         NEW.created_at, NEW.read_at, NEW.archived_at);
    INSERT INTO unread_counters (user_id, unread_count)
    VALUES (NEW.user_id, NEW.status = 'UNREAD')
    ON CONFLICT (user_id) DO UPDATE
    SET unread_count = unread_counters.unread_count + excluded.unread_count;
END;
