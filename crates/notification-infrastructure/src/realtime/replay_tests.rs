//! Replays from the change log as part of the conversation: storage is a mock
//! repository holding a log, behind the real `NotificationService`; the
//! client an in-memory socket; tokio's clock paused.

use std::sync::{Arc, Mutex};

use notification_application::realtime::{RealtimeSettings, SessionClaims, TokenRejected};
use notification_domain::{
    ChangesAfter, DomainEvent, InboxPosition, MockNotificationRepository, Notification,
    NotificationCreated, NotificationDraft, NotificationId, RepositoryError, UserId,
};
use serde_json::Value;
use tokio::task::{spawn_local, JoinHandle, LocalSet};
use uuid::Uuid;

use crate::realtime::close::CloseReason;
use crate::realtime::conversation::{converse, Conversation};
use crate::realtime::deadlines::unix_now;
use crate::realtime::fake_socket::{connected_pair, FakeClient};
use crate::realtime::healer::Healer;
use crate::realtime::hub::Hub;
use crate::realtime::outbound::encode;
use crate::realtime::replay::{Start, REPLAY_PAGE};

struct NoTokens;

impl notification_application::realtime::SessionAuthenticator for NoTokens {
    fn authenticate(&self, _token: &str) -> Result<SessionClaims, TokenRejected> {
        Err(TokenRejected::Invalid)
    }
}

/// The change `seq` of `user`: the creation of notification "n{seq}".
fn created(user: UserId, seq: u64) -> DomainEvent {
    let draft = NotificationDraft::parse(user, &format!("n{seq}"), "m", None, None).unwrap();
    NotificationCreated {
        notification: Notification::new(
            draft,
            NotificationId::new(),
            time::OffsetDateTime::now_utc(),
        ),
        unread_count: seq,
        seq,
        occurred_at: time::OffsetDateTime::now_utc(),
    }
    .into()
}

/// A user's change log: changes `first..=latest` are kept (earlier ones were
/// pruned); notification ids map to their creation `seq`.
#[derive(Clone)]
struct Log {
    user: UserId,
    first: u64,
    latest: Arc<Mutex<u64>>,
    /// Runs at each read with its `after` (to make things happen mid-replay).
    on_read: Arc<Mutex<Option<ReadHook>>>,
}

type ReadHook = Box<dyn FnMut(u64) + Send>;

impl Log {
    fn new(user: UserId, first: u64, latest: u64) -> Self {
        Self {
            user,
            first,
            latest: Arc::new(Mutex::new(latest)),
            on_read: Arc::new(Mutex::new(None)),
        }
    }

    fn repository(&self) -> MockNotificationRepository {
        let mut repository = MockNotificationRepository::new();
        let log = self.clone();
        repository
            .expect_changes_after()
            .returning(move |_, after, limit| Ok(log.after(after, limit)));
        let log = self.clone();
        repository.expect_unread_count().returning(move |_| {
            let seq = *log.latest.lock().unwrap();
            Ok(InboxPosition {
                seq,
                unread_count: seq,
            })
        });
        repository
    }

    fn after(&self, after: u64, limit: u32) -> ChangesAfter {
        if let Some(hook) = self.on_read.lock().unwrap().as_mut() {
            hook(after);
        }
        let latest = *self.latest.lock().unwrap();
        let position = InboxPosition {
            seq: latest,
            unread_count: latest,
        };
        if after > latest || (after + 1 < self.first && after < latest) {
            return ChangesAfter::Gone { latest: position };
        }
        let end = latest.min(after + u64::from(limit));
        ChangesAfter::Kept {
            changes: (after + 1..=end)
                .map(|seq| created(self.user, seq))
                .collect(),
            latest: position,
        }
    }
}

struct Replaying {
    hub: Hub,
    healer: Healer,
    user: UserId,
    client: FakeClient,
    conversation: JoinHandle<CloseReason>,
}

fn replay_with(
    user: UserId,
    repository: MockNotificationRepository,
    settings: RealtimeSettings,
    start: Start,
) -> Replaying {
    let hub = Hub::new(&settings);
    let healer = Healer::reading(hub.clone(), repository);
    let (socket, client) = connected_pair();
    let conversation = Conversation {
        registration: hub.register(user).unwrap(),
        claims: SessionClaims {
            user_id: user,
            expires_at: unix_now() + 3600,
        },
        settings,
        authenticator: Arc::new(NoTokens),
        healer: healer.clone(),
        start: Some(start),
        position: None,
    };
    let conversation = spawn_local(converse(Box::new(socket), conversation));
    Replaying {
        hub,
        healer,
        user,
        client,
        conversation,
    }
}

fn after_seq(seq: u64) -> Start {
    Start::After { seq, v1: false }
}

fn new_user() -> UserId {
    UserId::from_uuid(Uuid::new_v4())
}

impl Replaying {
    /// Pushes change `seq` live, as the pusher does.
    fn push(&self, seq: u64) {
        let text = encode(&notification_protocol::ServerMessage::from(&created(
            self.user, seq,
        )))
        .unwrap();
        let handed = self.hub.deliver(self.user, seq, text);
        self.healer.heal(self.user, handed);
    }

    async fn next_seq(&mut self) -> Value {
        self.client.next_json().await["seq"].clone()
    }
}

async fn local<F: std::future::Future>(test: F) -> F::Output {
    LocalSet::new().run_until(test).await
}

#[tokio::test(start_paused = true)]
async fn the_changes_after_since_seq_come_first_in_order_then_live_ones_without_repeats() {
    local(async {
        let user = new_user();
        let log = Log::new(user, 1, 5);
        let mut r = replay_with(
            user,
            log.repository(),
            RealtimeSettings::default(),
            after_seq(2),
        );
        // Pushed before the replay ran: 5 is replayed too, so it must not
        // come twice; 6 follows the replay.
        *log.latest.lock().unwrap() = 5;
        r.push(5);
        r.push(6);

        for seq in 3..=5 {
            let message = r.client.next_json().await;
            assert_eq!(message["type"], "notification");
            assert_eq!(message["seq"], seq);
            assert_eq!(message["unread_count"], seq, "as at that change");
            assert_eq!(message["data"]["title"], format!("n{seq}"));
        }
        assert_eq!(r.next_seq().await, 6);
        r.push(7);
        assert_eq!(r.next_seq().await, 7);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_replay_longer_than_a_page_is_read_page_by_page() {
    local(async {
        let user = new_user();
        let total = u64::from(REPLAY_PAGE) * 2 + 5;
        let log = Log::new(user, 1, total);
        let mut r = replay_with(
            user,
            log.repository(),
            RealtimeSettings::default(),
            after_seq(0),
        );
        for seq in 1..=total {
            assert_eq!(r.next_seq().await, seq);
        }
        r.push(total + 1);
        assert_eq!(r.next_seq().await, total + 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn live_changes_overflowing_the_send_buffer_during_a_replay_are_read_from_the_log() {
    local(async {
        let user = new_user();
        let page = u64::from(REPLAY_PAGE);
        let log = Log::new(user, 1, 2 * page);
        let settings = RealtimeSettings {
            send_buffer: 4,
            ..RealtimeSettings::default()
        };
        let r = replay_with(user, log.repository(), settings, after_seq(0));
        // While the replay reads its second page, far more live changes than
        // the buffer holds are stored and pushed.
        let (hub, latest) = (r.hub.clone(), Arc::clone(&log.latest));
        *log.on_read.lock().unwrap() = Some(Box::new(move |after| {
            if after == page {
                *latest.lock().unwrap() = 2 * page + 30;
                for seq in 2 * page + 1..=2 * page + 30 {
                    let change = created(user, seq);
                    let text =
                        encode(&notification_protocol::ServerMessage::from(&change)).unwrap();
                    hub.deliver(user, seq, text);
                }
            }
        }));
        let mut r = r;
        for seq in 1..=2 * page + 30 {
            assert_eq!(r.next_seq().await, seq, "no 1013, nothing missing");
        }
        r.push(2 * page + 31);
        assert_eq!(r.next_seq().await, 2 * page + 31);
    })
    .await;
}

/// A connection with a send buffer of 8, live after change 3 (sent).
async fn live_at_3_with_a_buffer_of_8() -> (Log, Replaying) {
    let user = new_user();
    let log = Log::new(user, 1, 2);
    let settings = RealtimeSettings {
        send_buffer: 8,
        ..RealtimeSettings::default()
    };
    let mut r = replay_with(user, log.repository(), settings, after_seq(2));
    *log.latest.lock().unwrap() = 3;
    r.push(3);
    assert_eq!(r.next_seq().await, 3, "live after the (empty) replay");
    (log, r)
}

#[tokio::test(start_paused = true)]
async fn a_live_burst_larger_than_the_send_buffer_is_read_from_the_log_without_1013() {
    local(async {
        let (log, mut r) = live_at_3_with_a_buffer_of_8().await;

        // A batch of 100 for this user, stored and pushed at once: far more
        // than the buffer holds, before the connection writes any.
        let burst = 100;
        *log.latest.lock().unwrap() = 3 + burst;
        for seq in 4..=3 + burst {
            r.push(seq);
        }
        for seq in 4..=3 + burst {
            assert_eq!(
                r.next_seq().await,
                seq,
                "in order, nothing missing, no 1013"
            );
        }
        *log.latest.lock().unwrap() = 4 + burst;
        r.push(4 + burst);
        assert_eq!(r.next_seq().await, 4 + burst, "still open, live again");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_connection_further_behind_than_its_buffer_and_a_whole_batch_gets_1013() {
    local(async {
        let (log, mut r) = live_at_3_with_a_buffer_of_8().await;

        // More than 8 + 1000 changes pushed before the connection writes any.
        let behind = 8 + notification_protocol::MAX_BATCH_ITEMS as u64 + 1;
        *log.latest.lock().unwrap() = 3 + behind;
        for seq in 4..=3 + behind {
            r.push(seq);
        }
        assert_eq!(r.client.next_close().await, (1013, "slow consumer".into()));
        assert_eq!(r.conversation.await.unwrap(), CloseReason::SlowConsumer);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn since_seq_beyond_the_log_gets_resync_first_then_live_ones() {
    local(async {
        let user = new_user();
        let log = Log::new(user, 10, 20);
        for since in [3, 99] {
            let mut r = replay_with(
                user,
                log.repository(),
                RealtimeSettings::default(),
                after_seq(since),
            );
            assert_eq!(
                r.client.next_json().await,
                serde_json::json!({"type": "resync", "seq": 20, "unread_count": 20}),
                "since_seq {since}"
            );
            r.push(21);
            assert_eq!(r.next_seq().await, 21);
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn since_seq_equal_to_the_latest_sends_nothing_until_the_next_change() {
    local(async {
        let user = new_user();
        let log = Log::new(user, 10, 20);
        let mut r = replay_with(
            user,
            log.repository(),
            RealtimeSettings::default(),
            after_seq(20),
        );
        r.push(21);
        assert_eq!(r.next_seq().await, 21);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn since_a_notification_replays_what_came_after_its_creation() {
    local(async {
        let user = new_user();
        let log = Log::new(user, 1, 4);
        let mut repository = log.repository();
        let since = NotificationId::new();
        repository
            .expect_creation_seq()
            .withf(move |_, id| *id == since)
            .returning(|_, _| Ok(Some(2)));
        let mut r = replay_with(
            user,
            repository,
            RealtimeSettings::default(),
            Start::Notification(since),
        );
        assert_eq!(r.next_seq().await, 3);
        assert_eq!(r.next_seq().await, 4);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_unknown_since_is_reported_then_live_messages_follow() {
    local(async {
        let user = new_user();
        let log = Log::new(user, 1, 4);
        let mut repository = log.repository();
        repository.expect_creation_seq().returning(|_, _| Ok(None));
        let mut r = replay_with(
            user,
            repository,
            RealtimeSettings::default(),
            Start::Notification(NotificationId::new()),
        );
        assert_eq!(r.client.next_json().await["error"]["code"], "unknown_since");
        r.push(4);
        r.push(5);
        assert_eq!(r.next_seq().await, 5, "live from the latest on");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_gap_between_what_was_sent_and_what_is_pushed_is_read_from_the_log() {
    local(async {
        let user = new_user();
        let log = Log::new(user, 1, 3);
        let mut r = replay_with(
            user,
            log.repository(),
            RealtimeSettings::default(),
            Start::Now,
        );
        r.push(4);
        assert_eq!(r.next_seq().await, 4);
        // 5 and 6 were stored but their publishes lost; 7 arrives. The
        // user's stream on this node reads the gap from the log.
        *log.latest.lock().unwrap() = 7;
        r.push(7);
        for seq in 5..=7 {
            assert_eq!(r.next_seq().await, seq);
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn storage_failing_during_a_replay_closes_with_1011_after_the_upgrade() {
    local(async {
        let mut repository = MockNotificationRepository::new();
        repository
            .expect_changes_after()
            .returning(|_, _, _| Err(RepositoryError::Unavailable("database down".into())));
        let mut r = replay_with(
            new_user(),
            repository,
            RealtimeSettings::default(),
            after_seq(0),
        );
        assert_eq!(
            r.client.next_close().await,
            (1011, "replay failed, reconnect with the same since".into())
        );
        assert_eq!(r.conversation.await.unwrap(), CloseReason::ReplayFailed);
        assert_eq!(r.hub.total_connections(), 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_is_heard_while_replaying() {
    local(async {
        let user = new_user();
        let total = u64::from(REPLAY_PAGE);
        let log = Log::new(user, 1, total);
        let mut r = replay_with(
            user,
            log.repository(),
            RealtimeSettings::default(),
            after_seq(0),
        );
        r.hub.shutdown();

        let mut replayed = 0;
        let close = loop {
            match r.client.next().await {
                Some(notification_application::realtime::OutboundFrame::Text(_)) => replayed += 1,
                Some(notification_application::realtime::OutboundFrame::Close { code, .. }) => {
                    break code
                }
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(close, 1001);
        assert!(
            replayed < total,
            "the 1001 must not wait for the whole replay ({replayed} of {total} sent first)"
        );
        assert_eq!(r.conversation.await.unwrap(), CloseReason::ShuttingDown);
    })
    .await;
}
