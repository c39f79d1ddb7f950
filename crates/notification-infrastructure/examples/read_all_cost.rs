//! What a read-all of many unread notifications costs, on SQLite and on
//! PostgreSQL: the figures of `docs/benchmarks/read-all.md`.
//!
//! ```sh
//! cargo run --release -p notification-infrastructure --example read_all_cost -- sqlite 50000
//! cargo run --release -p notification-infrastructure --example read_all_cost -- postgres 50000
//! ```
//!
//! On a fresh database (a SQLite file in the temporary folder, or a new
//! database on `TEST_POSTGRES_URL`), through the storage port the server
//! uses: one user gets `rows` unread notifications (written in batches,
//! not timed). Then, timed:
//!
//! - the read-all itself (`mark_all_read`, which is what
//!   `POST /notifications/read-all` waits for);
//! - other writes meanwhile: a task creates notifications for other users
//!   one after the other from just before the read-all until it has
//!   returned; the slowest of those creates is how long a write waited
//!   behind the read-all (a create alone takes well under 1 ms);
//! - pages of 21 (what a page of 20 asks the port for) right after it: the
//!   user's `status=unread`, `status=read` and inbox first pages (median of
//!   25 each);
//! - then one pass of the materializer (this branch only: see
//!   [`materialize`]) and the same pages again.
//!
//! On PostgreSQL the tables are analyzed after filling and after the
//! materializer's pass, as autovacuum would do within a minute of so many
//! changed rows: a table filled seconds ago has no statistics, and the
//! planner then takes 50,000 rows for 3 and sorts them all for one page
//! (about 20 ms, before and after this change alike).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool: a panic says why

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notification_domain::{
    now, ListQuery, Notification, NotificationDraft, NotificationId, NotificationRepository,
    NotificationStatus, StatusFilter, UserId,
};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::storage::{self, DatabaseUrl, Storage};
use notification_infrastructure::testing::{fresh_postgres_database, fresh_sqlite_url};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// Inserts in flight while filling the inbox (the writer batches them).
const FILL_IN_FLIGHT: usize = 256;
const PAGE_RUNS: usize = 25;

#[tokio::main]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let database = arguments.next().unwrap_or_else(|| "sqlite".to_owned());
    let rows: usize = arguments
        .next()
        .map(|n| n.parse().expect("rows: a number"))
        .unwrap_or(50_000);
    let url = match database.as_str() {
        "sqlite" => fresh_sqlite_url(),
        "postgres" => {
            let url = fresh_postgres_database().await;
            storage::migrate(&DatabaseUrl::parse(&url).unwrap())
                .await
                .unwrap();
            url
        }
        other => panic!("sqlite or postgres, not {other}"),
    };
    let tasks = BackgroundTasks::new();
    let storage = storage::connect(&DatabaseUrl::parse(&url).unwrap(), &tasks)
        .await
        .unwrap();
    let repository = storage.repository();
    let user = UserId::from_uuid(Uuid::new_v4());
    fill(&repository, user, rows).await;
    analyze(&url).await;
    let alone = create_latency(&repository).await;

    let writing = Arc::new(AtomicBool::new(true));
    let others = tokio::spawn(create_until_stopped(repository.clone(), writing.clone()));
    // The other writer is under way before the read-all is queued.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let outcome = repository.mark_all_read(user, now()).await.unwrap();
    let read_all = started.elapsed();
    tokio::time::sleep(Duration::from_millis(20)).await;
    writing.store(false, Ordering::Relaxed);
    let (creates, slowest) = others.await.unwrap();
    assert_eq!(outcome.updated, rows as u64);

    println!("{database}: read-all of {rows} unread");
    println!("  read-all                      {:>10.2} ms", ms(read_all));
    println!(
        "  other creates meanwhile       {creates} one after another, slowest {:.2} ms (alone: {:.2} ms)",
        ms(slowest),
        ms(alone)
    );
    print_pages(&repository, user, "right after").await;
    if let Some((took, chunks)) = materialize(&storage).await {
        println!(
            "  materializer pass             {:>10.2} ms in {chunks} chunks",
            ms(took)
        );
        analyze(&url).await;
        print_pages(&repository, user, "after materializing").await;
    }
    tasks.shutdown().await;
    storage.close().await;
}

/// One pass of the read-all materializer, timed; `None` where there is none
/// (main before the watermark: delete this function's body down to `None`
/// to measure there).
async fn materialize(storage: &Storage) -> Option<(Duration, usize)> {
    let started = Instant::now();
    let chunks = storage
        .materialize_read_alls(storage::MATERIALIZE_CHUNK)
        .await
        .unwrap();
    Some((started.elapsed(), chunks.len()))
}

/// Gives PostgreSQL's planner statistics of the tables as they are now.
async fn analyze(url: &str) {
    if url.starts_with("postgres") {
        let mut connection = PgConnection::connect(url).await.unwrap();
        sqlx::query("ANALYZE")
            .execute(&mut connection)
            .await
            .unwrap();
    }
}

/// `rows` unread notifications of `user`, written in batches.
async fn fill(repository: &Arc<dyn NotificationRepository>, user: UserId, rows: usize) {
    let mut left = rows;
    while left > 0 {
        let now_many = left.min(FILL_IN_FLIGHT);
        let inserts: Vec<_> = (0..now_many)
            .map(|_| {
                let repository = repository.clone();
                tokio::spawn(async move { repository.insert(&notification(user)).await })
            })
            .collect();
        for insert in inserts {
            insert.await.unwrap().unwrap();
        }
        left -= now_many;
    }
}

fn notification(user: UserId) -> Notification {
    let draft = NotificationDraft::parse(
        user,
        "Nova transação",
        "Uma nova transação foi criada",
        None,
        None,
    )
    .unwrap();
    Notification::new(draft, NotificationId::new(), now())
}

/// The median of 25 creates of another user, one after the other.
async fn create_latency(repository: &Arc<dyn NotificationRepository>) -> Duration {
    let other = UserId::from_uuid(Uuid::new_v4());
    let mut took = Vec::new();
    for _ in 0..PAGE_RUNS {
        let started = Instant::now();
        repository.insert(&notification(other)).await.unwrap();
        took.push(started.elapsed());
    }
    median(took)
}

/// Creates of other users, one after the other, until `writing` is false;
/// returns how many and the slowest.
async fn create_until_stopped(
    repository: Arc<dyn NotificationRepository>,
    writing: Arc<AtomicBool>,
) -> (usize, Duration) {
    let (mut count, mut slowest) = (0, Duration::ZERO);
    while writing.load(Ordering::Relaxed) {
        let started = Instant::now();
        let other = UserId::from_uuid(Uuid::new_v4());
        repository.insert(&notification(other)).await.unwrap();
        slowest = slowest.max(started.elapsed());
        count += 1;
    }
    (count, slowest)
}

async fn print_pages(repository: &Arc<dyn NotificationRepository>, user: UserId, when: &str) {
    for (name, filter) in [
        (
            "status=unread",
            StatusFilter::Only(NotificationStatus::Unread),
        ),
        ("status=read", StatusFilter::Only(NotificationStatus::Read)),
        ("inbox", StatusFilter::Inbox),
    ] {
        let mut took = Vec::new();
        for _ in 0..PAGE_RUNS {
            let query = ListQuery {
                filter,
                before: None,
                limit: 21,
            };
            let started = Instant::now();
            repository.list(user, query).await.unwrap();
            took.push(started.elapsed());
        }
        println!(
            "  first page {name:<14} {when:<20} median {:>8.3} ms",
            ms(median(took))
        );
    }
}

fn median(mut took: Vec<Duration>) -> Duration {
    took.sort_unstable();
    took[took.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
