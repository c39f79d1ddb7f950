//! Hub fan-out without a network: `Hub::deliver` queueing one
//! serialized notification for every socket of a user, reported as socket
//! deliveries per second.
//!
//! Nothing drains the mailboxes here (their readers are the conversations,
//! which need a socket), so each mailbox is filled at most to `WS_SEND_BUFFER` (256, the
//! default) and then the sockets are registered again, outside the timed
//! part. The measured work is what a push costs the publishing thread: shard
//! lock, user lookup, one mailbox lock, queue push and wake-up per socket.
//!
//! - `one_user/{1,4,16}`: one user holding 1, 4 or 16 sockets.
//! - `many_users/{threads}`: every thread pushes to its own 4,096 users (one
//!   socket each) at the same time, so the shards are shared by all.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use notification_application::realtime::{RealtimeSettings, SharedText};
use notification_domain::UserId;
use notification_infrastructure::realtime::{Hub, Registration};
use uuid::Uuid;

/// `WS_SEND_BUFFER`'s default: pushes a mailbox takes before it must be drained.
const SEND_BUFFER: usize = 256;
const USERS_PER_THREAD: usize = 4_096;

/// A `notification` message as the server sends it (about 400 bytes).
fn message() -> SharedText {
    SharedText::from(
        r#"{"type":"notification","data":{"notification_id":"0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f","user_id":"123e4567-e89b-12d3-a456-426614174001","title":"Nova transação","message":"Uma nova transação foi criada","type":"INFO","status":"UNREAD","metadata":{"amount":42},"created_at":"2025-12-31T18:00:00Z","read_at":null,"archived_at":null},"unread_count":1}"#,
    )
}

fn hub() -> Hub {
    Hub::new(&RealtimeSettings {
        send_buffer: SEND_BUFFER,
        max_connections_per_user: 16,
        ..RealtimeSettings::default()
    })
}

fn user() -> UserId {
    UserId::from_uuid(Uuid::new_v4())
}

/// `sockets` connections of `user`, its stream anchored at 0 (each round
/// delivers seq 1, 2, … in order, the path of live changes).
fn register(hub: &Hub, user: UserId, sockets: usize) -> Vec<Registration> {
    let connections = (0..sockets)
        .map(|_| hub.register(user).expect("under the per-user limit"))
        .collect();
    hub.anchor(user, 0);
    connections
}

fn one_user(c: &mut Criterion) {
    let mut group = c.benchmark_group("hub_fanout/one_user");
    let text = message();
    for sockets in [1usize, 4, 16] {
        group.throughput(Throughput::Elements(sockets as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(sockets),
            &sockets,
            |b, &sockets| {
                let hub = hub();
                let alice = user();
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        let connections = register(&hub, alice, sockets);
                        let batch = (iters - done).min(SEND_BUFFER as u64);
                        let start = Instant::now();
                        for seq in 1..=batch {
                            black_box(hub.deliver(black_box(alice), seq, text.clone()));
                        }
                        timed += start.elapsed();
                        drop(connections);
                        done += batch;
                    }
                    timed
                });
            },
        );
    }
    group.finish();
}

fn many_users(c: &mut Criterion) {
    let mut group = c.benchmark_group("hub_fanout/many_users");
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let text = message();
    for threads in [1, cores.max(2)] {
        // One iteration: every thread delivers one message to one socket.
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(threads),
            &threads,
            |b, &threads| {
                let hub = hub();
                let users: Vec<Vec<UserId>> = (0..threads)
                    .map(|_| (0..USERS_PER_THREAD).map(|_| user()).collect())
                    .collect();
                b.iter_custom(|iters| parallel_pushes(&hub, &users, &text, iters));
            },
        );
    }
    group.finish();
}

/// Each thread sends `iters` messages round-robin over its users; only the
/// sending is timed (between two barriers), not the re-registrations.
fn parallel_pushes(hub: &Hub, users: &[Vec<UserId>], text: &SharedText, iters: u64) -> Duration {
    let per_round = (USERS_PER_THREAD * SEND_BUFFER) as u64;
    let barrier = Barrier::new(users.len());
    let mut timed = Duration::ZERO;
    std::thread::scope(|scope| {
        let workers: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(index, mine)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut timed = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        let connections: Vec<Registration> = mine
                            .iter()
                            .flat_map(|&user| register(hub, user, 1))
                            .collect();
                        let batch = (iters - done).min(per_round);
                        barrier.wait();
                        let start = Instant::now();
                        for i in 0..batch {
                            let user = mine[i as usize % mine.len()];
                            let seq = i / mine.len() as u64 + 1;
                            black_box(hub.deliver(user, seq, text.clone()));
                        }
                        barrier.wait();
                        // Thread 0 keeps the wall time of the round: the
                        // barrier makes it the slowest thread's time too.
                        if index == 0 {
                            timed += start.elapsed();
                        }
                        drop(connections);
                        done += batch;
                    }
                    timed
                })
            })
            .collect();
        for (index, worker) in workers.into_iter().enumerate() {
            let elapsed = worker.join().expect("a pushing thread panicked");
            if index == 0 {
                timed = elapsed;
            }
        }
    });
    timed
}

fn quick() -> Criterion {
    // Short runs: the machine is small and shared; medians are stable enough.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = quick();
    targets = one_user, many_users
}
criterion_main!(benches);
