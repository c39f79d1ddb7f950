//! The `since` replay as part of the conversation: storage is a mock
//! repository behind the real `NotificationService`, the client an in-memory
//! socket, tokio's clock paused.

use std::sync::Arc;

use notification_application::realtime::{RealtimeSettings, SessionClaims, TokenRejected};
use notification_application::NotificationService;
use notification_domain::{
    MockEventPublisher, MockNotificationRepository, Notification, NotificationDraft,
    NotificationId, RepositoryError, UserId,
};
use tokio::task::{spawn_local, JoinHandle, LocalSet};
use uuid::Uuid;

use crate::realtime::close::CloseReason;
use crate::realtime::conversation::{converse, Conversation};
use crate::realtime::deadlines::unix_now;
use crate::realtime::fake_socket::{connected_pair, FakeClient};
use crate::realtime::hub::Hub;
use crate::realtime::replay::{Replay, REPLAY_PAGE};

struct NoTokens;

impl notification_application::realtime::SessionAuthenticator for NoTokens {
    fn authenticate(&self, _token: &str) -> Result<SessionClaims, TokenRejected> {
        Err(TokenRejected::Invalid)
    }
}

fn notification_of(user: UserId, n: usize) -> Notification {
    let draft = NotificationDraft::parse(user, &format!("n{n}"), "missed", None, None).unwrap();
    Notification::new(
        draft,
        NotificationId::new(),
        time::OffsetDateTime::now_utc(),
    )
}

/// A service whose storage knows `since` (or not) and holds `missed`
/// notifications after it.
fn service(since_known: bool, missed: Vec<Notification>) -> NotificationService {
    let mut repository = MockNotificationRepository::new();
    repository.expect_get().returning(move |user, id| {
        Ok(since_known.then(|| {
            let draft = NotificationDraft::parse(user, "since", "seen", None, None).unwrap();
            Notification::new(draft, id, time::OffsetDateTime::now_utc())
        }))
    });
    repository.expect_unread_count().returning(|_| {
        Ok(notification_domain::InboxPosition {
            seq: 0,
            unread_count: 7,
        })
    });
    let mut pages = missed;
    repository
        .expect_list_after()
        .returning(move |_, _, limit| {
            let take = pages.len().min(limit as usize);
            Ok(pages.drain(..take).collect())
        });
    NotificationService::new(Arc::new(repository), Arc::new(MockEventPublisher::new()))
}

/// A service whose storage fails.
fn broken_service() -> NotificationService {
    let mut repository = MockNotificationRepository::new();
    repository
        .expect_get()
        .returning(|_, _| Err(RepositoryError::Unavailable("database down".into())));
    NotificationService::new(Arc::new(repository), Arc::new(MockEventPublisher::new()))
}

struct Replaying {
    hub: Hub,
    user: UserId,
    client: FakeClient,
    conversation: JoinHandle<CloseReason>,
}

fn replay_with(service: NotificationService, settings: RealtimeSettings) -> Replaying {
    let hub = Hub::new(&settings);
    let user = UserId::from_uuid(Uuid::new_v4());
    let (socket, client) = connected_pair();
    let conversation = Conversation {
        registration: hub.register(user).unwrap(),
        claims: SessionClaims {
            user_id: user,
            expires_at: unix_now() + 3600,
        },
        settings,
        authenticator: Arc::new(NoTokens),
        replay: Some(Replay::new(service, user, NotificationId::new())),
    };
    let conversation = spawn_local(converse(Box::new(socket), conversation));
    Replaying {
        hub,
        user,
        client,
        conversation,
    }
}

async fn local<F: std::future::Future>(test: F) -> F::Output {
    LocalSet::new().run_until(test).await
}

#[tokio::test(start_paused = true)]
async fn missed_notifications_come_first_oldest_first_then_what_was_pushed_meanwhile() {
    local(async {
        let user_missed = UserId::from_uuid(Uuid::new_v4());
        let missed: Vec<_> = (0..3).map(|n| notification_of(user_missed, n)).collect();
        let mut r = replay_with(service(true, missed), RealtimeSettings::default());
        // Queued before the conversation ran: it must follow the replay.
        assert_eq!(r.hub.send_to_user(r.user, &r#"{"live":1}"#.into()), 1);

        for n in 0..3 {
            let message = r.client.next_json().await;
            assert_eq!(message["type"], "notification");
            assert_eq!(message["data"]["title"], format!("n{n}"));
            assert_eq!(message["unread_count"], 7);
        }
        assert_eq!(r.client.next_json().await, serde_json::json!({"live": 1}));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_replay_longer_than_a_page_is_read_page_by_page() {
    local(async {
        let owner = UserId::from_uuid(Uuid::new_v4());
        let total = REPLAY_PAGE as usize + 5;
        let missed: Vec<_> = (0..total).map(|n| notification_of(owner, n)).collect();
        let mut r = replay_with(service(true, missed), RealtimeSettings::default());
        for n in 0..total {
            assert_eq!(r.client.next_json().await["data"]["title"], format!("n{n}"));
        }
        assert_eq!(r.hub.send_to_user(r.user, &r#"{"live":1}"#.into()), 1);
        assert_eq!(r.client.next_json().await, serde_json::json!({"live": 1}));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_unknown_since_is_reported_then_live_messages_follow() {
    local(async {
        let mut r = replay_with(service(false, Vec::new()), RealtimeSettings::default());
        assert_eq!(r.client.next_json().await["error"]["code"], "unknown_since");
        assert_eq!(r.hub.send_to_user(r.user, &r#"{"live":1}"#.into()), 1);
        assert_eq!(r.client.next_json().await, serde_json::json!({"live": 1}));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn storage_failing_during_the_since_lookup_closes_with_1011_after_the_upgrade() {
    local(async {
        let mut r = replay_with(broken_service(), RealtimeSettings::default());
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
        let owner = UserId::from_uuid(Uuid::new_v4());
        let total = REPLAY_PAGE as usize;
        let missed: Vec<_> = (0..total).map(|n| notification_of(owner, n)).collect();
        let mut r = replay_with(service(true, missed), RealtimeSettings::default());
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
