//! The read-all materializer: rewrites, in bounded chunks, the rows a
//! read-all covers (stored UNREAD, older than the user's read watermark, see
//! `read_watermark`) as stored READ at the read-all's time.
//!
//! A read-all itself touches no notification row, and what users see does
//! not depend on this task: every read applies the watermark. It keeps the
//! indexes tight: until the rows are rewritten, `?status=unread` pages walk
//! past them in `notifications_by_user_status` and `?status=read` pages
//! take the inbox index and pass over the rows still unread (figures in
//! `docs/benchmarks/read-all.md`).
//!
//! Each chunk ([`MATERIALIZE_CHUNK`] rows) is one write through the writer
//! queue, like any other, so creates queued meanwhile go between two chunks
//! instead of waiting for all of them; it takes no seq, writes no log row and
//! publishes nothing (it changes no effective state). The chunk that finds
//! fewer rows than it may rewrite clears the counter's `read_all_pending`,
//! in the same transaction. A pass walks every pending user in user order;
//! the task runs one after each read-all of this node, at start and every
//! [`SWEEP_EVERY`] (read-alls of other nodes, a pass cut short by a
//! failure or a shutdown). Two nodes materializing the same user take turns
//! on its counter row, and a chunk of rows already rewritten rewrites none.

use std::sync::Arc;
use std::time::Duration;

use notification_domain::{RepositoryError, UserId};
use sqlx::database::Database;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};
use tokio::sync::Notify;
use uuid::Uuid;

use super::error::repository_error;
use super::repository::SqlRepository;
use super::sql_repository as sql;
use super::Storage;
use crate::background::BackgroundTasks;

/// The most rows one chunk rewrites: on SQLite about as long a hold of the
/// writer as a batch of creates.
pub const MATERIALIZE_CHUNK: u32 = 500;

/// How often the task looks for pending read-alls it was not told about.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Pending users read at once.
const USERS_PER_READ: i64 = 100;

/// Runs the materializer of `storage` until `tasks` shut down: a pass at
/// once, after each read-all that read something, and every
/// [`SWEEP_EVERY`]. A failed pass is logged and tried again at the next
/// wake-up.
pub fn spawn_read_all_materializer(storage: &Storage, tasks: &BackgroundTasks) {
    let storage = storage.clone();
    let read_alls = storage.read_alls();
    let token = tasks.token();
    tasks.spawn(async move {
        loop {
            // Cancellation between chunks loses nothing: the next start
            // goes on where this one stopped.
            tokio::select! {
                _ = token.cancelled() => return,
                pass = storage.materialize_read_alls(MATERIALIZE_CHUNK) => match pass {
                    Ok(chunks) if !chunks.is_empty() => {
                        let rows: u64 = chunks.iter().sum();
                        metrics::counter!("read_all_rows_materialized_total").increment(rows);
                        tracing::debug!(rows, chunks = chunks.len(), "read-alls materialized");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "materializing read-alls failed"),
                },
            }
            tokio::select! {
                _ = token.cancelled() => return,
                _ = read_alls.notified() => {}
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    });
}

/// One pass over every pending user of `repository`, each in chunks of
/// `chunk` rows until one comes back short; returns the rows each chunk
/// rewrote, in order.
pub(crate) async fn materialize_pending<DB>(
    repository: &SqlRepository<DB>,
    chunk: u32,
) -> Result<Vec<u64>, RepositoryError>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Uuid: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let mut chunks = Vec::new();
    // Keyset pages from the smallest id (the nil id included), each
    // starting at the last user of the one before, which it leaves out.
    let mut from: Option<Uuid> = None;
    loop {
        let mut users: Vec<Uuid> = sqlx::query_scalar(sql::PENDING_READ_ALLS)
            .bind(from.unwrap_or_else(Uuid::nil))
            .bind(USERS_PER_READ)
            .fetch_all(repository.reader())
            .await
            .map_err(repository_error)?;
        users.retain(|user| Some(*user) != from);
        let Some(last) = users.last() else {
            return Ok(chunks);
        };
        from = Some(*last);
        for user in users {
            loop {
                let rewritten = repository
                    .writes()
                    .materialize_read_all(UserId::from_uuid(user), chunk)
                    .await?;
                chunks.push(rewritten);
                if rewritten < u64::from(chunk) {
                    break;
                }
                // Let the writes queued behind this chunk go first.
                tokio::task::yield_now().await;
            }
        }
    }
}

/// What wakes the materializer: notified after each read-all that read
/// something (a permit is kept while no pass is waiting).
pub(crate) type ReadAllSignal = Arc<Notify>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{connect, DatabaseUrl};
    use crate::testing::fresh_sqlite_url;
    use notification_domain::{now, Notification, NotificationDraft, NotificationId};
    use sqlx::{Connection, SqliteConnection};

    /// Rows stored UNREAD, read beside the storage on a connection of its own.
    async fn stored_unread(url: &str) -> i64 {
        let mut connection = SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE status = 'UNREAD'")
            .fetch_one(&mut connection)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_task_materializes_a_read_all_after_it_and_stops_at_shutdown() {
        let url = fresh_sqlite_url();
        let tasks = BackgroundTasks::new();
        let storage = connect(&DatabaseUrl::parse(&url).unwrap(), &tasks)
            .await
            .unwrap();
        spawn_read_all_materializer(&storage, &tasks);
        let repository = storage.repository();
        let user = UserId::from_uuid(Uuid::new_v4());
        let rows = MATERIALIZE_CHUNK as usize + 20;
        let inserts: Vec<_> = (0..rows)
            .map(|_| {
                let repository = repository.clone();
                let draft = NotificationDraft::parse(user, "t", "m", None, None).unwrap();
                let notification = Notification::new(draft, NotificationId::new(), now());
                tokio::spawn(async move { repository.insert(&notification).await.unwrap() })
            })
            .collect();
        for insert in inserts {
            insert.await.unwrap();
        }
        assert_eq!(stored_unread(&url).await, rows as i64);

        let outcome = repository.mark_all_read(user, now()).await.unwrap();
        assert_eq!(outcome.updated, rows as u64);

        // Woken by the read-all; nothing reports the end of a pass, so
        // look at the rows until none is stored UNREAD (bounded).
        let rewritten = tokio::time::timeout(Duration::from_secs(20), async {
            while stored_unread(&url).await > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(rewritten.is_ok(), "the read-all's rows were not rewritten");
        assert_eq!(repository.unread_count(user).await.unwrap().unread_count, 0);
        // Returns only once the task has ended.
        tasks.shutdown().await;
        storage.close().await;
    }
}
