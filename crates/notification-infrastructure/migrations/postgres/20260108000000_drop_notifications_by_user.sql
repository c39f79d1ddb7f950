-- The same as the SQLite migration of the same name (read it for the
-- reasons): no statement searches notifications by user alone any more, and
-- every index is one more entry written by every create.
DROP INDEX notifications_by_user;
