//! [`Hub`]: the registry of live connections, per user, on this node.
//!
//! Not a single task that every push must queue behind: users are spread over
//! [`SHARDS`] std mutexes, so fan-out to different users runs in parallel on
//! every worker thread. No lock is ever held across an `.await`: every
//! critical section below is a few map and queue operations.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use notification_application::realtime::{RealtimeSettings, Refusal, SharedText};
use notification_domain::UserId;
use tokio::sync::Notify;

use crate::realtime::mailbox::{Change, Mailbox};
use crate::realtime::sequence::{Next, UserSequence};

/// How many independently locked parts the registry is split into. A power of
/// two well above the number of cores, so two pushes rarely meet on a lock.
pub const SHARDS: usize = 64;

type Shard = Mutex<HashMap<UserId, UserEntry>>;

/// One user's connections on this node and where their shared stream of
/// changes stands.
#[derive(Default)]
struct UserEntry {
    mailboxes: Vec<Arc<Mailbox>>,
    sequence: UserSequence<SharedText>,
}

impl UserEntry {
    /// Queues what `next` hands on for every connection; returns how many
    /// pushes were accepted and the log read to start, if any.
    fn hand_on(&self, next: Next<SharedText>) -> Handed {
        let mut pushed = 0;
        for (seq, text) in next.deliver {
            let change = Change { seq, text };
            pushed += self
                .mailboxes
                .iter()
                .filter(|mailbox| mailbox.push(&change))
                .count();
        }
        Handed {
            pushed,
            read_after: next.read_after,
        }
    }
}

/// What handing something to a user's sequence did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Handed {
    /// Messages queued, summed over the user's connections.
    pub pushed: usize,
    /// A log read of the changes after this `seq` is to be started (the
    /// healer does it); `None` when none is needed or one already runs.
    pub read_after: Option<u64>,
}

/// The registry of live connections. Cheap to clone (all clones share it).
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    shards: Box<[Shard]>,
    hasher: RandomState,
    settings: RealtimeSettings,
    total: AtomicUsize,
    shutting_down: AtomicBool,
    /// Woken when the last connection leaves (for [`Hub::drained`]).
    emptied: Notify,
}

/// One registered connection: its place in the hub and its mailbox.
/// [`Registration::start`] is where the user's stream stood when it
/// registered: its mailbox receives every change after it, in order.
/// Dropping it unregisters the connection at once; it counts as live (for
/// [`Hub::drained`]) until then, or until the [`Departure`] of
/// [`Registration::leave`] is dropped.
pub struct Registration {
    hub: Arc<HubInner>,
    user_id: UserId,
    mailbox: Arc<Mailbox>,
    start: Option<u64>,
    /// Set by `leave`, whose [`Departure`] then does the counting.
    departed: bool,
}

/// A connection that has left the hub (nothing more is queued for it) but is
/// still saying goodbye: it counts as live until this is dropped, so
/// [`Hub::drained`] waits for its close frame.
#[must_use = "the connection stops counting as live when this is dropped"]
pub struct Departure {
    hub: Arc<HubInner>,
}

impl Hub {
    /// An empty hub with the per-user limit and per-connection queue size of
    /// `settings`.
    pub fn new(settings: &RealtimeSettings) -> Self {
        Self {
            inner: Arc::new(HubInner {
                shards: (0..SHARDS).map(|_| Shard::default()).collect(),
                hasher: RandomState::new(),
                settings: *settings,
                total: AtomicUsize::new(0),
                shutting_down: AtomicBool::new(false),
                emptied: Notify::new(),
            }),
        }
    }

    /// Registers one more connection of `user_id`; the per-user limit is
    /// checked and the slot taken under one lock, so concurrent upgrades
    /// never exceed it.
    pub fn register(&self, user_id: UserId) -> Result<Registration, Refusal> {
        let mailbox = Arc::new(Mailbox::new(self.inner.settings.send_buffer));
        let start = {
            let mut shard = self.inner.shard(user_id);
            // Read under the shard lock: `shutdown` sets the flag before it
            // visits the shards, so a registration either sees the flag or
            // is in a shard when `shutdown` visits it.
            if self.inner.shutting_down.load(Ordering::SeqCst) {
                return Err(Refusal::ShuttingDown);
            }
            let limit = self.inner.settings.max_connections_per_user;
            let held = shard.get(&user_id).map_or(0, |entry| entry.mailboxes.len());
            if held >= limit {
                return Err(Refusal::TooManyConnections { limit });
            }
            let entry = shard.entry(user_id).or_default();
            entry.mailboxes.push(Arc::clone(&mailbox));
            entry.sequence.head()
        };
        self.inner.total.fetch_add(1, Ordering::SeqCst);
        Ok(Registration {
            hub: Arc::clone(&self.inner),
            user_id,
            mailbox,
            start,
            departed: false,
        })
    }

    /// Hands change `seq` of `user_id` to the user's sequence on this node,
    /// which queues it (and whatever waited behind it) for every connection
    /// of the user, in `seq` order, once; or holds it behind a gap and asks
    /// for a log read ([`Handed::read_after`]). Never waits: a connection
    /// whose queue is full is marked lagged (its loop reads on from the log).
    pub fn deliver(&self, user_id: UserId, seq: u64, text: SharedText) -> Handed {
        self.with_user(user_id, |entry| {
            let next = entry.sequence.offer(seq, text);
            entry.hand_on(next)
        })
    }

    /// A connection of `user_id` knows every change up to `seq` (see
    /// `UserSequence::anchor`).
    pub fn anchor(&self, user_id: UserId, seq: u64) -> Handed {
        self.with_user(user_id, |entry| {
            let next = entry.sequence.anchor(seq);
            entry.hand_on(next)
        })
    }

    /// The user's latest `seq` as storage has it now.
    pub fn learned_latest(&self, user_id: UserId, seq: u64) -> Handed {
        self.with_user(user_id, |entry| {
            let next = entry.sequence.learned_latest(seq);
            entry.hand_on(next)
        })
    }

    /// Whether the read planned for `user_id` is still needed: the `seq` to
    /// read after, or `None` (the gap closed, or the user left).
    pub fn confirm_read(&self, user_id: UserId) -> Option<u64> {
        self.with_user(user_id, |entry| entry.sequence.confirm_read())
    }

    /// The changes a log read returned, in `seq` order, each with its
    /// message, and the user's latest `seq` read with them.
    pub fn read_done(
        &self,
        user_id: UserId,
        changes: Vec<(u64, SharedText)>,
        latest: u64,
    ) -> Handed {
        self.with_user(user_id, |entry| {
            let next = entry.sequence.read_done(changes, latest);
            entry.hand_on(next)
        })
    }

    /// The read for `user_id` failed; a later change or check asks again.
    pub fn read_failed(&self, user_id: UserId) {
        self.with_user(user_id, |entry| entry.sequence.read_failed());
    }

    /// The log no longer holds what `user_id`'s connections here are missing:
    /// they are told to resync (1012, after what they have queued), and the
    /// sequence goes on after `latest`. Returns how many were told.
    pub fn skip_to(&self, user_id: UserId, latest: u64) -> usize {
        self.with_user(user_id, |entry| {
            let _ = entry.sequence.skip_to(latest);
            entry
                .mailboxes
                .iter()
                .filter(|mailbox| mailbox.resync())
                .count()
        })
    }

    /// Every user with a connection here whose stream is anchored, with the
    /// last `seq` handed on (for the periodic check for lost publishes).
    pub fn anchored_users(&self) -> Vec<(UserId, u64)> {
        let mut users = Vec::new();
        for shard in self.inner.shards.iter() {
            let shard = lock(shard);
            users.extend(
                shard
                    .iter()
                    .filter_map(|(user, entry)| entry.sequence.head().map(|head| (*user, head))),
            );
        }
        users
    }

    /// Tests: queues `text` as the user's next change (anchoring the
    /// stream at 0 first if needed); returns how many connections took it.
    #[cfg(test)]
    pub(crate) fn send_to_user(&self, user_id: UserId, text: &SharedText) -> usize {
        self.with_user(user_id, |entry| {
            let head = entry.sequence.head().unwrap_or(0);
            let anchored = entry.sequence.anchor(head);
            let _ = entry.hand_on(anchored);
            let next = entry.sequence.offer(head + 1, text.clone());
            entry.hand_on(next).pushed
        })
    }

    fn with_user<R: Default>(&self, user_id: UserId, f: impl FnOnce(&mut UserEntry) -> R) -> R {
        // No await here: each push is a short lock of one mailbox.
        let mut shard = self.inner.shard(user_id);
        shard.get_mut(&user_id).map(f).unwrap_or_default()
    }

    /// Whether `user_id`'s stream on this node knows where it stands (a
    /// connection of the user is registered and anchored it).
    pub fn is_anchored(&self, user_id: UserId) -> bool {
        self.inner
            .shard(user_id)
            .get(&user_id)
            .is_some_and(|entry| entry.sequence.head().is_some())
    }

    /// How many connections `user_id` holds on this node.
    pub fn connections_of(&self, user_id: UserId) -> usize {
        self.inner
            .shard(user_id)
            .get(&user_id)
            .map_or(0, |entry| entry.mailboxes.len())
    }

    /// How many connections are registered on this node.
    pub fn total_connections(&self) -> usize {
        self.inner.total.load(Ordering::SeqCst)
    }

    /// Refuses new registrations and tells every connection to close with
    /// 1001. Connections leave as their loops end; await [`Hub::drained`].
    pub fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        for shard in self.inner.shards.iter() {
            let shard = lock(shard);
            for entry in shard.values() {
                for mailbox in &entry.mailboxes {
                    mailbox.shut_down();
                }
            }
        }
    }

    /// Events may have been missed: tells every connection registered now to
    /// write what it has queued, then close with 1012 so that its client
    /// resumes with `since`. Returns how many were told (connections already
    /// closing for another reason are not counted). Connections registered
    /// afterwards are not affected: they start after the gap.
    pub fn resync_all(&self) -> usize {
        let mut told = 0;
        // One shard locked at a time, never across an await: pushes to users
        // of other shards go on meanwhile.
        for shard in self.inner.shards.iter() {
            let shard = lock(shard);
            told += shard
                .values()
                .flat_map(|entry| &entry.mailboxes)
                .filter(|mailbox| mailbox.resync())
                .count();
        }
        told
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Resolves once no connection is live: every one has left the hub and
    /// written its close frame (or given up on it). At once if none is.
    pub async fn drained(&self) {
        loop {
            let emptied = self.inner.emptied.notified();
            tokio::pin!(emptied);
            // Registered as a waiter before the check, so a last connection
            // leaving in between still wakes us.
            emptied.as_mut().enable();
            if self.total_connections() == 0 {
                return;
            }
            emptied.await;
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("total_connections", &self.total_connections())
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}

impl HubInner {
    fn shard(&self, user_id: UserId) -> MutexGuard<'_, HashMap<UserId, UserEntry>> {
        // SHARDS is a power of two: the mask keeps the hash's low bits.
        let index = self.hasher.hash_one(user_id) as usize & (SHARDS - 1);
        lock(&self.shards[index])
    }

    /// One live connection fewer; wakes [`Hub::drained`] at zero.
    fn stop_counting(&self) {
        if self.total.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.emptied.notify_waiters();
        }
    }

    fn unregister(&self, user_id: UserId, mailbox: &Arc<Mailbox>) {
        let mut shard = self.shard(user_id);
        let Some(entry) = shard.get_mut(&user_id) else {
            return;
        };
        entry.mailboxes.retain(|held| !Arc::ptr_eq(held, mailbox));
        if entry.mailboxes.is_empty() {
            // The user's sequence goes with its last connection: the next
            // one starts from storage again.
            shard.remove(&user_id);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Critical sections only insert into or remove from a map; a panic in one
    // leaves the map usable, so poisoning is ignored.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registration {
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// Leaves the hub at once (nothing more is queued for this connection)
    /// and returns what keeps it counted as live while it says goodbye.
    pub fn leave(mut self) -> Departure {
        self.departed = true;
        Departure {
            hub: Arc::clone(&self.hub),
        }
    }

    pub(crate) fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// The last `seq` of the user's stream when this connection registered
    /// (its mailbox receives every later one); `None` when the stream was not
    /// anchored yet (the connection reads its starting point from storage).
    pub fn start(&self) -> Option<u64> {
        self.start
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(self.user_id, &self.mailbox);
        if !self.departed {
            self.hub.stop_counting();
        }
    }
}

impl Drop for Departure {
    fn drop(&mut self) {
        self.hub.stop_counting();
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::mailbox::MailboxEvent;
    use futures_util::FutureExt;
    use uuid::Uuid;

    fn hub(max_connections_per_user: usize, send_buffer: usize) -> Hub {
        Hub::new(&RealtimeSettings {
            max_connections_per_user,
            send_buffer,
            ..RealtimeSettings::default()
        })
    }

    fn user() -> UserId {
        UserId::from_uuid(Uuid::new_v4())
    }

    #[test]
    fn registering_and_dropping_updates_the_counts_at_once() {
        let hub = hub(16, 8);
        let (alice, bob) = (user(), user());
        let a1 = hub.register(alice).unwrap();
        let a2 = hub.register(alice).unwrap();
        let b1 = hub.register(bob).unwrap();
        assert_eq!(hub.connections_of(alice), 2);
        assert_eq!(hub.total_connections(), 3);

        drop(a1);
        assert_eq!(hub.connections_of(alice), 1);
        drop((a2, b1));
        assert_eq!(hub.connections_of(alice), 0);
        assert_eq!(hub.connections_of(bob), 0);
        assert_eq!(hub.total_connections(), 0);
    }

    #[test]
    fn one_more_than_the_limit_is_refused_until_a_slot_frees() {
        let hub = hub(2, 8);
        let alice = user();
        let first = hub.register(alice).unwrap();
        let _second = hub.register(alice).unwrap();
        assert_eq!(
            hub.register(alice).unwrap_err(),
            Refusal::TooManyConnections { limit: 2 }
        );
        assert!(hub.register(user()).is_ok(), "other users are not limited");
        drop(first);
        assert!(hub.register(alice).is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_upgrades_of_one_user_never_exceed_the_limit() {
        let hub = hub(16, 8);
        let alice = user();
        let attempts: Vec<_> = (0..64)
            .map(|_| {
                let hub = hub.clone();
                tokio::spawn(async move { hub.register(alice) })
            })
            .collect();
        let mut admitted = Vec::new();
        for attempt in attempts {
            if let Ok(registration) = attempt.await.unwrap() {
                admitted.push(registration);
            }
        }
        assert_eq!(admitted.len(), 16);
        assert_eq!(hub.connections_of(alice), 16);
    }

    #[test]
    fn sending_to_a_user_with_no_connection_reaches_nobody() {
        let hub = hub(16, 8);
        assert_eq!(hub.send_to_user(user(), &"x".into()), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_fan_out_reaches_every_socket_and_counts_return_to_zero() {
        const USERS: usize = 40;
        const SOCKETS_PER_USER: usize = 3;
        const PRODUCERS: usize = 8;
        const MESSAGES_PER_PRODUCER: usize = 10;
        const PER_SOCKET: usize = PRODUCERS * MESSAGES_PER_PRODUCER;
        let hub = hub(SOCKETS_PER_USER, PER_SOCKET);
        let users: Vec<UserId> = (0..USERS).map(|_| user()).collect();

        let mut consumers = Vec::new();
        for &user_id in &users {
            for _ in 0..SOCKETS_PER_USER {
                let registration = hub.register(user_id).unwrap();
                consumers.push(tokio::spawn(async move {
                    let mut received = 0;
                    while received < PER_SOCKET {
                        match registration.mailbox().next().await {
                            MailboxEvent::Message(_) => received += 1,
                            other => panic!("unexpected {other:?}"),
                        }
                    }
                    received
                }));
            }
        }
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let (hub, users) = (hub.clone(), users.clone());
                tokio::spawn(async move {
                    let mut reached = 0;
                    for m in 0..MESSAGES_PER_PRODUCER {
                        let text = SharedText::from(format!("{p}-{m}"));
                        for &user_id in &users {
                            reached += hub.send_to_user(user_id, &text);
                        }
                        tokio::task::yield_now().await;
                    }
                    reached
                })
            })
            .collect();

        let mut reached = 0;
        for producer in producers {
            reached += producer.await.unwrap();
        }
        assert_eq!(reached, USERS * SOCKETS_PER_USER * PER_SOCKET);
        for consumer in consumers {
            assert_eq!(consumer.await.unwrap(), PER_SOCKET);
        }
        assert_eq!(hub.total_connections(), 0);
        assert!(users.iter().all(|&u| hub.connections_of(u) == 0));
        hub.drained().await;
    }

    /// The event already waiting in a connection's mailbox, without waiting
    /// (a message's `seq` left out: these tests are about the queueing).
    fn pending(registration: &Registration) -> Option<MailboxEvent> {
        registration
            .mailbox()
            .next()
            .now_or_never()
            .map(|event| match event {
                MailboxEvent::Message(change) => MailboxEvent::Message(Change { seq: 0, ..change }),
                other => other,
            })
    }

    #[test]
    fn a_full_queue_marks_only_the_slow_connection_lagged() {
        let hub = hub(16, 2);
        let (alice, bob) = (user(), user());
        let fast = hub.register(alice).unwrap();
        let slow = hub.register(alice).unwrap();
        let other = hub.register(bob).unwrap();

        for i in 0..2 {
            assert_eq!(hub.send_to_user(alice, &format!("{i}").into()), 2);
            assert_eq!(
                pending(&fast),
                Some(MailboxEvent::Message(Change {
                    seq: 0,
                    text: format!("{i}").into()
                }))
            );
        }
        assert_eq!(
            hub.send_to_user(alice, &"2".into()),
            1,
            "only the fast one accepts"
        );
        assert_eq!(hub.send_to_user(bob, &"b".into()), 1);

        assert_eq!(pending(&slow), Some(MailboxEvent::Lagged));
        assert_eq!(pending(&fast), Some(MailboxEvent::Message("2".into())));
        assert_eq!(pending(&other), Some(MailboxEvent::Message("b".into())));
    }

    #[test]
    fn shutdown_tells_every_connection_and_refuses_new_ones() {
        let hub = hub(16, 8);
        let (alice, bob) = (user(), user());
        let a = hub.register(alice).unwrap();
        let b = hub.register(bob).unwrap();

        hub.shutdown();

        assert!(hub.is_shutting_down());
        assert_eq!(pending(&a), Some(MailboxEvent::ShutDown));
        assert_eq!(pending(&b), Some(MailboxEvent::ShutDown));
        assert_eq!(hub.register(alice).unwrap_err(), Refusal::ShuttingDown);
    }

    #[test]
    fn resync_tells_every_connection_of_every_user_once() {
        let hub = hub(16, 8);
        let users: Vec<UserId> = (0..100).map(|_| user()).collect();
        let connections: Vec<Registration> = users
            .iter()
            .flat_map(|&u| [hub.register(u).unwrap(), hub.register(u).unwrap()])
            .collect();

        assert_eq!(hub.resync_all(), 200);

        for connection in &connections {
            assert_eq!(pending(connection), Some(MailboxEvent::Resync));
        }
        assert_eq!(hub.resync_all(), 0, "already told");
        assert_eq!(
            hub.total_connections(),
            200,
            "they leave as their loops end"
        );
    }

    #[test]
    fn a_resync_writes_what_was_queued_first_and_takes_nothing_more() {
        let hub = hub(16, 8);
        let alice = user();
        let connection = hub.register(alice).unwrap();
        assert_eq!(hub.send_to_user(alice, &"before".into()), 1);

        assert_eq!(hub.resync_all(), 1);

        assert_eq!(hub.send_to_user(alice, &"after".into()), 0);
        assert_eq!(
            pending(&connection),
            Some(MailboxEvent::Message("before".into()))
        );
        assert_eq!(pending(&connection), Some(MailboxEvent::Resync));
    }

    #[test]
    fn a_connection_registered_after_a_resync_is_not_affected() {
        let hub = hub(16, 8);
        let alice = user();
        let old = hub.register(alice).unwrap();
        assert_eq!(hub.resync_all(), 1);

        let new = hub.register(alice).unwrap();

        assert_eq!(
            hub.send_to_user(alice, &"live".into()),
            1,
            "only the new one"
        );
        assert_eq!(pending(&new), Some(MailboxEvent::Message("live".into())));
        assert_eq!(pending(&new), None);
        assert_eq!(pending(&old), Some(MailboxEvent::Resync));
    }

    #[test]
    fn resync_does_not_count_connections_closing_for_shutdown() {
        let hub = hub(16, 8);
        let _connection = hub.register(user()).unwrap();
        hub.shutdown();
        assert_eq!(hub.resync_all(), 0);
    }

    #[test]
    fn resync_of_an_empty_hub_tells_nobody() {
        assert_eq!(hub(16, 8).resync_all(), 0);
    }

    #[test]
    fn a_connection_starts_where_the_users_stream_stands_and_the_stream_goes_with_the_last_one() {
        let hub = hub(16, 8);
        let alice = user();
        let first = hub.register(alice).unwrap();
        assert_eq!(first.start(), None, "not anchored: read from storage");
        assert_eq!(
            hub.deliver(alice, 4, "early".into()),
            Handed::default(),
            "held until anchored"
        );
        assert_eq!(hub.anchor(alice, 3).pushed, 1, "4 follows the anchor");
        let second = hub.register(alice).unwrap();
        assert_eq!(second.start(), Some(4));
        assert_eq!(hub.anchored_users(), vec![(alice, 4)]);

        drop((first, second));
        let third = hub.register(alice).unwrap();
        assert_eq!(third.start(), None, "a new stream");
    }

    #[test]
    fn a_change_ahead_of_the_stream_asks_for_one_log_read() {
        let hub = hub(16, 8);
        let alice = user();
        let phone = hub.register(alice).unwrap();
        let laptop = hub.register(alice).unwrap();
        hub.anchor(alice, 1);

        let handed = hub.deliver(alice, 3, "three".into());
        assert_eq!(
            handed,
            Handed {
                pushed: 0,
                read_after: Some(1)
            }
        );
        assert_eq!(
            hub.deliver(alice, 4, "four".into()).read_after,
            None,
            "one read per user"
        );
        assert_eq!(hub.confirm_read(alice), Some(1));

        let handed = hub.read_done(alice, vec![(2, "two".into())], 4);
        assert_eq!(
            handed,
            Handed {
                pushed: 6,
                read_after: None
            }
        );
        for connection in [&phone, &laptop] {
            for seq in 2..=4 {
                let Some(MailboxEvent::Message(change)) =
                    connection.mailbox().next().now_or_never()
                else {
                    panic!("expected {seq}");
                };
                assert_eq!(change.seq, seq);
            }
        }
    }

    #[tokio::test]
    async fn drained_resolves_when_the_last_connection_leaves() {
        let hub = hub(16, 8);
        let registration = hub.register(user()).unwrap();
        let waiter = tokio::spawn({
            let hub = hub.clone();
            async move { hub.drained().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(registration);
        waiter.await.unwrap();
    }
}
