//! SQLite storage: the zero-setup default, one file on disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use uuid::Uuid;

use super::database_url::{DatabaseUrl, SqliteLocation};
use super::error::StorageError;
use super::group_commit::{GroupCommit, WriterThread};
use super::repository::{ReadDialect, SqlRepository};
use super::sql_repository::{BEGIN_SNAPSHOT_SQLITE, LATEST_SEQS_SQLITE, LIST_INBOX_SQLITE};
use super::sqlite_checkpointer;
use super::sqlite_writer::{self, SqliteBatchWriter};
use super::write_limits::WriteLimits;
use crate::background::BackgroundTasks;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a statement waits for a lock held by another connection (e.g. a
/// `notification-api migrate` next to a running server).
const WRITE_WAIT: Duration = Duration::from_secs(5);

/// Connections for reads. WAL lets them read while the writer writes, each
/// seeing the last committed state.
const READER_CONNECTIONS: u32 = 4;

/// The name of the writer's thread (as `top -H` and profiles show it).
const WRITER_THREAD: &str = "sqlite-writer";

/// Notifications in a SQLite database.
///
/// SQLite lets one connection write at a time. With several writer
/// connections, a write that finds the database locked sleeps and retries in
/// `busy_timeout` steps (latency spikes, then "database is locked" under load).
/// So every write goes through one connection, owned by one writer thread
/// that writes batches (group commit, see `group_commit` and
/// `sqlite_writer`), while reads use a pool of a few sqlx connections.
pub struct SqliteNotificationRepository {
    reader: SqlitePool,
    /// The port itself, shared by both databases.
    port: Arc<SqlRepository<Sqlite>>,
    writer: WriterThread,
}

impl SqliteNotificationRepository {
    /// Opens (creating the folder and the file if missing) and migrates; its
    /// writer thread and, on a file, its checkpointer run under `tasks`.
    pub(crate) async fn open(
        location: &SqliteLocation,
        url: &DatabaseUrl,
        limits: WriteLimits,
        tasks: &BackgroundTasks,
    ) -> Result<Self, StorageError> {
        let (options, readers, writer_path) = match location {
            SqliteLocation::Memory => {
                // Each connection to ":memory:" has a database of its own. A
                // named one of SQLite's `memdb` VFS is shared by every
                // connection of this process that opens it (the writer's and
                // the readers'), and lives while one of them is open (the
                // writer's, until the storage closes).
                let name = format!("/notifications-{}", Uuid::new_v4().simple());
                let writer_path = PathBuf::from(format!("file:{name}?vfs=memdb"));
                (
                    connect_options().filename(name).vfs("memdb"),
                    1,
                    writer_path,
                )
            }
            SqliteLocation::File(path) => {
                create_parent_folder(path, url)?;
                let options = connect_options().filename(path);
                (options, READER_CONNECTIONS, path.clone())
            }
        };
        let writer_error = |source| StorageError::OpenWriter {
            url: url.to_string(),
            source,
        };
        // The writer's connection first, alone: it creates the file and
        // turns on WAL. Connections opening a new file at the same time fail
        // with "database is locked" (the change of journal mode does not wait
        // for the busy timeout). Opening may wait up to `WRITE_WAIT` for
        // another process's lock: off the runtime. It prepares statements
        // only at its first batch, after the migrations below.
        let connection =
            tokio::task::spawn_blocking(move || sqlite_writer::open(&writer_path, WRITE_WAIT))
                .await
                .map_err(|e| writer_error(Box::new(e)))?
                .map_err(|e| writer_error(Box::new(e)))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            // A connection to a local file does not break the way a
            // network one does; the check would cost one more hand-off to
            // sqlx's worker thread per read.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| StorageError::Connect {
                url: url.to_string(),
                source,
            })?;
        MIGRATOR
            .run(&reader)
            .await
            .map_err(|source| StorageError::Migrate {
                url: url.to_string(),
                source,
            })?;
        let (writes, writer) = GroupCommit::on_thread(
            WRITER_THREAD,
            SqliteBatchWriter::new(connection),
            limits,
            tasks,
        )
        .map_err(|e| writer_error(Box::new(e)))?;
        if let SqliteLocation::File(_) = location {
            // Only once open: a failed start leaves no task behind.
            sqlite_checkpointer::spawn(reader.clone(), tasks);
        }
        Ok(Self {
            port: Arc::new(SqlRepository::new(
                reader.clone(),
                writes,
                ReadDialect {
                    list_inbox: LIST_INBOX_SQLITE,
                    begin_snapshot: BEGIN_SNAPSHOT_SQLITE,
                    latest_seqs: LATEST_SEQS_SQLITE,
                },
            )),
            reader,
            writer,
        })
    }

    /// The port.
    pub fn port(&self) -> Arc<SqlRepository<Sqlite>> {
        Arc::clone(&self.port)
    }

    /// How many writes wait for a batch (see `WriteLimits`).
    pub fn queued_writes(&self) -> usize {
        self.port.queued_writes()
    }

    /// Closes the readers, then lets the writer write what is queued and
    /// stop; the last connection to close checkpoints the write-ahead log into
    /// the database file.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.stop().await;
    }
}

/// Settings every connection gets.
fn connect_options() -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        // Readers do not block the writer, nor the writer the readers.
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode NORMAL cannot corrupt the database; a power cut may lose
        // the last commits, which FULL would keep at one fsync per commit.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(WRITE_WAIT)
        .foreign_keys(true)
        // A statement changing many rows inside a transaction (mark_all_read's
        // UPDATE) keeps a statement journal, to undo just that statement on a
        // failure. On disk it doubled the writes of a first batched-insert
        // variant (`subjournalPageIfRequired` under `pwrite` in the profile);
        // in memory it is a copy.
        .pragma("temp_store", "memory")
}

/// `sqlite://data/notifications.db` works on a fresh checkout: create `data/`.
fn create_parent_folder(path: &std::path::Path, url: &DatabaseUrl) -> Result<(), StorageError> {
    let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    // A blocking call, once at start-up, before anything else is running.
    std::fs::create_dir_all(folder).map_err(|source| StorageError::CreateFolder {
        url: url.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    //! The query plans that the indexes in the migration were made for.

    use notification_domain::{ListQuery, NotificationId, NotificationStatus, StatusFilter};
    use uuid::Uuid;

    use super::*;
    use crate::storage::sql_repository::{self as sql, list_text};

    async fn memory_database() -> SqliteNotificationRepository {
        let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
        SqliteNotificationRepository::open(
            &SqliteLocation::Memory,
            &url,
            WriteLimits::default(),
            &BackgroundTasks::new(),
        )
        .await
        .unwrap()
    }

    /// SQLite's plan for `statement`, one line per step.
    async fn plan(repository: &SqliteNotificationRepository, statement: &str) -> String {
        let explain = format!("EXPLAIN QUERY PLAN {statement}");
        // The plan does not depend on the values: bind NULL to every parameter.
        let numbered = (1..)
            .take_while(|n| statement.contains(&format!("${n}")))
            .count();
        let parameters = numbered + statement.matches('?').count();
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for _ in 0..parameters {
            query = query.bind(None::<i64>);
        }
        let steps = query.fetch_all(&repository.reader).await.unwrap();
        steps
            .into_iter()
            .map(|(.., detail)| detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn page(filter: StatusFilter, before: Option<NotificationId>) -> String {
        pending_page(filter, before, false)
    }

    /// A page while the user's read-all may still cover rows stored UNREAD.
    fn pending_page(filter: StatusFilter, before: Option<NotificationId>, pending: bool) -> String {
        let query = ListQuery {
            filter,
            before,
            limit: 20,
        };
        list_text(LIST_INBOX_SQLITE, &query, pending)
    }

    #[tokio::test]
    async fn each_query_searches_the_index_made_for_it_without_sorting() {
        let repository = memory_database().await;
        let cursor = Some(NotificationId::new());
        let unread = StatusFilter::Only(NotificationStatus::Unread);
        let cases = [
            (
                page(StatusFilter::Inbox, None),
                "notifications_inbox_by_user (user_id=?)",
            ),
            (
                page(StatusFilter::Inbox, cursor),
                "notifications_inbox_by_user (user_id=? AND id<?)",
            ),
            (
                page(unread, None),
                "notifications_by_user_status (user_id=? AND status=?)",
            ),
            (
                page(unread, cursor),
                "notifications_by_user_status (user_id=? AND status=? AND id<?)",
            ),
            (
                pending_page(unread, cursor, true),
                "notifications_by_user_status (user_id=? AND status=? AND id<?)",
            ),
            (
                pending_page(StatusFilter::Only(NotificationStatus::Read), cursor, true),
                "notifications_inbox_by_user (user_id=? AND id<?)",
            ),
            (
                sql::MATERIALIZE_READ_ALL.to_owned(),
                "notifications_by_user_status (user_id=? AND status=?)",
            ),
            (
                sql::GET_NOTIFICATION.to_owned(),
                "sqlite_autoindex_notifications_1 (id=?)",
            ),
            (
                sql::GET_WATERMARKED_NOTIFICATION.to_owned(),
                "sqlite_autoindex_notifications_1 (id=?)",
            ),
            (
                sql::GET_WATERMARKED_NOTIFICATION.to_owned(),
                "PRIMARY KEY (user_id=?)",
            ),
            (sql::GET_COUNTER.to_owned(), "PRIMARY KEY (user_id=?)"),
            (
                sql::PENDING_READ_ALLS.to_owned(),
                "INDEX unread_counters_read_all_pending (user_id>?)",
            ),
            (
                sql::UPDATE_STATUS.to_owned(),
                "sqlite_autoindex_notifications_1 (id=?)",
            ),
            (
                sql::DELETE_NOTIFICATION.to_owned(),
                "sqlite_autoindex_notifications_1 (id=?)",
            ),
            (sql::GET_POSITION.to_owned(), "PRIMARY KEY (user_id=?)"),
            (
                sql::LIST_CHANGES.to_owned(),
                "sqlite_autoindex_notification_changes_1 (user_id=? AND seq>? AND seq<?)",
            ),
            (
                sql::CREATION_SEQ.to_owned(),
                "sqlite_autoindex_notification_changes_1 (user_id=?)",
            ),
        ];
        for (statement, expected_search) in cases {
            let plan = plan(&repository, &statement).await;
            assert!(
                plan.contains(&format!(
                    "SEARCH notifications USING INDEX {expected_search}"
                )) || plan.contains(&format!("SEARCH unread_counters USING {expected_search}"))
                    || plan.contains(&format!(
                        "SEARCH notification_changes USING INDEX {expected_search}"
                    )),
                "{statement}\n{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "sorts: {statement}\n{plan}");
        }
    }

    #[tokio::test]
    async fn a_create_answered_with_an_error_is_not_stored() {
        use notification_domain::{
            now, Notification, NotificationDraft, NotificationRepository, RepositoryError, UserId,
        };
        let repository = memory_database().await;
        // Makes the batch fail at its last statement, after its rows were
        // inserted: a trigger refuses every new counter. Nothing of the
        // batch may stay stored.
        sqlx::query(
            "CREATE TRIGGER refuse_counters BEFORE INSERT ON unread_counters \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(&repository.reader)
        .await
        .unwrap();
        let user = UserId::from_uuid(Uuid::now_v7());
        let draft = NotificationDraft::parse(user, "t", "m", None, None).unwrap();
        let notification = Notification::new(draft, NotificationId::new(), now());

        let answer = repository.port.insert(&notification).await;

        assert!(
            matches!(answer, Err(RepositoryError::Other(_))),
            "{answer:?}"
        );
        assert_eq!(
            repository.port.get(user, notification.id()).await.unwrap(),
            None,
            "a failed create stores nothing, so a retry cannot duplicate it"
        );
    }

    #[tokio::test]
    async fn a_materializing_chunk_after_a_read_all_in_one_batch_covers_the_creates_before_them() {
        use crate::storage::group_commit::BatchWrite;
        use crate::storage::write::{Write, Written};
        use notification_domain::{now, Notification, NotificationDraft, UserId};
        let url = crate::testing::fresh_sqlite_url();
        let tasks = BackgroundTasks::new();
        let storage = crate::storage::connect(&DatabaseUrl::parse(&url).unwrap(), &tasks)
            .await
            .unwrap();
        // A writer of the test's own on the same file, to write exactly
        // this batch, as the writer thread would when these writes queue
        // together.
        let path = std::path::Path::new(url.trim_start_matches("sqlite://"));
        let writer = SqliteBatchWriter::new(sqlite_writer::open(path, WRITE_WAIT).unwrap());
        let user = UserId::from_uuid(Uuid::now_v7());
        let draft = NotificationDraft::parse(user, "t", "m", None, None).unwrap();
        let created = Notification::new(draft, NotificationId::new(), now());
        let read_at = now();

        let written = writer
            .write_batch(&[
                Write::Create(created.clone()),
                Write::ReadAll {
                    user_id: user,
                    read_at,
                },
                Write::MaterializeReadAll {
                    user_id: user,
                    limit: 10,
                },
            ])
            .await
            .unwrap();

        assert!(
            matches!(written[2], Written::Materialized(1)),
            "the create queued before it is rewritten: {written:?}"
        );
        let repository = storage.repository();
        let page = |status| ListQuery {
            filter: StatusFilter::Only(status),
            before: None,
            limit: 10,
        };
        let (unread, _) = repository
            .list(user, page(NotificationStatus::Unread))
            .await
            .unwrap();
        assert!(unread.is_empty(), "{unread:?}");
        let (read, _) = repository
            .list(user, page(NotificationStatus::Read))
            .await
            .unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].id(), created.id());
        assert_eq!(read[0].read_at(), Some(read_at));
        drop(writer);
        tasks.shutdown().await;
        storage.close().await;
    }

    #[tokio::test]
    async fn idempotency_keys_are_found_by_their_primary_key_and_purged_by_their_age() {
        let repository = memory_database().await;
        let by_key = "idempotency_keys USING INDEX sqlite_autoindex_idempotency_keys_1 \
                      (publisher_id=? AND idempotency_key=?)";
        let cases = [
            (sql::GET_KEY, by_key),
            (sql::FORGET_EXPIRED_KEY, by_key),
            (
                sql::PURGE_KEYS,
                "idempotency_keys USING INDEX idempotency_keys_by_created_at \
                 (created_at_micros<?)",
            ),
        ];
        for (statement, expected_search) in cases {
            let plan = plan(&repository, statement).await;
            assert!(
                plan.contains(&format!("SEARCH {expected_search}")),
                "{statement}\n{plan}"
            );
        }
    }
}
