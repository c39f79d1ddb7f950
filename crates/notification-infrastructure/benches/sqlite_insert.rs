//! The storage insert path on SQLite: `NotificationRepository::insert` of one
//! new notification (row plus unread count, in one transaction) into a
//! database file in the temporary folder, as `connect` opens it for the
//! server (WAL, one writer connection, synchronous NORMAL).
//!
//! - `sequential`: one insert at a time (latency of one create's write).
//! - `concurrent/16` and `concurrent/256`: 16 or 256 inserts in flight, as
//!   under load; the repository writes what is queued together (group commit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use notification_domain::{
    Notification, NotificationDraft, NotificationId, NotificationRepository, UserId,
};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::storage::{self, DatabaseUrl};
use notification_infrastructure::testing::fresh_sqlite_url;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

/// Inserts spread over this many users (their unread counts are updated).
const USERS: usize = 1_000;
const IN_FLIGHT: [usize; 2] = [16, 256];

/// `count` new notifications, round-robin over `users`, built before the
/// timed part so that only the storage is measured.
fn notifications(users: &[UserId], count: u64) -> Vec<Notification> {
    (0..count)
        .map(|i| {
            let user = users[i as usize % users.len()];
            let draft = NotificationDraft::parse(
                user,
                "Nova transação",
                "Uma nova transação foi criada",
                None,
                Some(json!({"seq": i})),
            )
            .expect("a valid draft");
            Notification::new(draft, NotificationId::new(), OffsetDateTime::now_utc())
        })
        .collect()
}

fn inserts(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let url = fresh_sqlite_url();
    let database = DatabaseUrl::parse(&url).expect("a SQLite URL");
    // Never shut down: the benchmark's process ends with its runtime.
    let tasks = BackgroundTasks::new();
    let repository: Arc<dyn NotificationRepository> = runtime
        .block_on(storage::connect(&database, &tasks))
        .expect("the SQLite database opens")
        .repository();
    let users: Vec<UserId> = (0..USERS)
        .map(|_| UserId::from_uuid(Uuid::new_v4()))
        .collect();

    let mut group = c.benchmark_group("sqlite_insert");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.iter_custom(|iters| {
            let batch = notifications(&users, iters);
            runtime.block_on(async {
                let start = Instant::now();
                for notification in &batch {
                    repository
                        .insert(notification)
                        .await
                        .expect("insert succeeds");
                }
                start.elapsed()
            })
        });
    });
    for in_flight in IN_FLIGHT {
        group.bench_with_input(
            BenchmarkId::new("concurrent", in_flight),
            &in_flight,
            |b, &in_flight| {
                b.iter_custom(|iters| {
                    let batch = Arc::new(notifications(&users, iters));
                    runtime.block_on(async {
                        let start = Instant::now();
                        let workers: Vec<_> = (0..in_flight)
                            .map(|worker| {
                                let (repository, batch) = (repository.clone(), batch.clone());
                                tokio::spawn(async move {
                                    for notification in batch.iter().skip(worker).step_by(in_flight)
                                    {
                                        repository
                                            .insert(notification)
                                            .await
                                            .expect("insert succeeds");
                                    }
                                })
                            })
                            .collect();
                        for worker in workers {
                            worker.await.expect("an insert task panicked");
                        }
                        start.elapsed()
                    })
                });
            },
        );
    }
    group.finish();
    if let Some(path) = url.strip_prefix("sqlite://") {
        if let Some(folder) = std::path::Path::new(path).parent() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

fn quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = quick();
    targets = inserts
}
criterion_main!(benches);
