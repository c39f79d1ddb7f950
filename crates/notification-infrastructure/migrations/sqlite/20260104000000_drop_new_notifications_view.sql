-- The batch writer no longer inserts through the view `new_notifications`
-- (migration 20260103000000): every write now goes through one transaction
-- per batch that reads the counters first, inserts the rows with one
-- statement and writes the final counts with another, the same steps as on
-- PostgreSQL. The view and its trigger have no user left.

DROP TRIGGER new_notifications_insert;
DROP VIEW new_notifications;
