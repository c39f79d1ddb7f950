//! [`Pusher`]: the hub's subscriber on the event bus. Each domain event
//! becomes the contract's message, serialized once, and goes to its user's
//! stream on this node, which queues it for every connection of the user in
//! `seq` order (or holds it behind a gap that the [`Healer`] fills from the
//! change log). Events lost by the bus are healed from the log too.

use async_trait::async_trait;
use notification_domain::{DomainEvent, EventSubscriber};
use notification_protocol::{ServerMessage, UpdateType};
use time::OffsetDateTime;

use crate::realtime::healer::Healer;
use crate::realtime::outbound::encode;

/// Subscribes to the event bus and pushes every event to its user's sockets.
///
/// Metrics: `ws_messages_pushed_total`, `ws_push_latency_seconds`,
/// `ws_unsequenced_events_total` (events without a `seq`, from a node of an
/// older release during a rolling deploy: not pushed), `ws_resyncs_total`
/// (lost events the log could not heal: sockets closed with 1012).
#[derive(Debug, Clone)]
pub struct Pusher {
    healer: Healer,
}

impl Pusher {
    pub fn new(healer: Healer) -> Self {
        Self { healer }
    }
}

#[async_trait]
impl EventSubscriber for Pusher {
    /// Hands the event's message to its user's stream on this node (no
    /// connection there, on a multi-node deployment, is normal).
    async fn handle(&self, event: &DomainEvent) {
        let hub = self.healer.hub();
        let user_id = event.user_id();
        // Most events find no connection on a given node: skip serializing.
        // A connection opened right now reads its starting point from
        // storage, after this change was stored.
        if hub.connections_of(user_id) == 0 {
            return;
        }
        let seq = event.seq();
        if seq == 0 {
            // Sent by a node of a release without the change sequence
            // (docs/deployment.md): it has no place in the stream.
            metrics::counter!("ws_unsequenced_events_total").increment(1);
            return;
        }
        let kind = match event {
            DomainEvent::NotificationCreated(_) => "notification",
            DomainEvent::NotificationUpdated(_) => "notification_update",
        };
        let Some(text) = encode(&ServerMessage::from(event)) else {
            return;
        };
        let handed = hub.deliver(user_id, seq, text);
        if handed.pushed > 0 {
            metrics::counter!("ws_messages_pushed_total", "type" => kind)
                .increment(u64::try_from(handed.pushed).unwrap_or(u64::MAX));
            let latency = (OffsetDateTime::now_utc() - event.occurred_at()).as_seconds_f64();
            metrics::histogram!("ws_push_latency_seconds").record(latency.max(0.0));
        }
        match event {
            DomainEvent::NotificationCreated(created) => tracing::debug!(
                %user_id,
                seq,
                notification_id = %created.notification.id(),
                pushed = handed.pushed,
                "notification pushed"
            ),
            DomainEvent::NotificationUpdated(updated) => tracing::debug!(
                %user_id,
                seq,
                notification_id = updated.notification_id.map(tracing::field::display),
                update_type = UpdateType::of(&updated.change).as_str(),
                pushed = handed.pushed,
                "notification update pushed"
            ),
        }
        self.healer.heal(user_id, handed);
    }

    /// The bus lost events (its subscription dropped and came back): every
    /// user connected here is checked against the log at once, and what they
    /// missed is read and sent in order. Only when that check fails are the
    /// sockets closed with 1012 (after what was queued before), so that
    /// their clients resume.
    async fn on_gap(&self) {
        match self.healer.check_all().await {
            Ok(behind) => tracing::warn!(
                behind,
                "events may have been missed; healed the sockets on this node from the change log"
            ),
            Err(error) => {
                let sockets = self.healer.hub().resync_all();
                metrics::counter!("ws_resyncs_total").increment(1);
                tracing::warn!(
                    sockets,
                    %error,
                    "events may have been missed and the change log cannot be read; every socket on this node was told to resume"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::background::BackgroundTasks;
    use crate::realtime::hub::{Hub, Registration};
    use crate::realtime::mailbox::MailboxEvent;
    use futures_util::FutureExt;
    use notification_application::realtime::RealtimeSettings;
    use notification_application::NotificationService;
    use notification_domain::{
        ChangesAfter, InboxPosition, MockEventPublisher, MockNotificationRepository, Notification,
        NotificationChange, NotificationCreated, NotificationDraft, NotificationId,
        NotificationUpdated, RepositoryError, UserId,
    };
    use serde_json::{json, Value};
    use time::macros::datetime;

    const USER: &str = "123e4567-e89b-12d3-a456-426614174001";
    const NOTIFICATION: &str = "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f";

    fn user() -> UserId {
        USER.parse().unwrap()
    }

    /// A pusher whose reads go to `repository`.
    fn pusher_reading(repository: MockNotificationRepository) -> (Pusher, Hub) {
        let hub = Hub::new(&RealtimeSettings::default());
        let service =
            NotificationService::new(Arc::new(repository), Arc::new(MockEventPublisher::new()));
        let healer = Healer::new(hub.clone(), service, BackgroundTasks::new());
        (Pusher::new(healer), hub)
    }

    /// A pusher that must not read storage.
    fn pusher() -> (Pusher, Hub) {
        pusher_reading(MockNotificationRepository::new())
    }

    /// A connection of `user` whose stream stands at `seq`.
    fn connection_at(hub: &Hub, user_id: UserId, seq: u64) -> Registration {
        let registration = hub.register(user_id).unwrap();
        hub.anchor(user_id, seq);
        registration
    }

    fn update(change: NotificationChange, with_id: bool, seq: u64) -> NotificationUpdated {
        NotificationUpdated {
            user_id: user(),
            notification_id: with_id.then(|| NOTIFICATION.parse().unwrap()),
            change,
            unread_count: 3,
            seq,
            occurred_at: datetime!(2025-12-31 18:05 UTC),
        }
    }

    fn created(seq: u64) -> NotificationCreated {
        let draft = NotificationDraft::parse(
            user(),
            "Nova transação",
            "Uma nova transação foi criada",
            None,
            Some(json!({"order": 42})),
        )
        .unwrap();
        NotificationCreated {
            notification: Notification::new(
                draft,
                NOTIFICATION.parse::<NotificationId>().unwrap(),
                datetime!(2025-12-31 18:00 UTC),
            ),
            unread_count: 5,
            seq,
            occurred_at: datetime!(2025-12-31 18:00 UTC),
        }
    }

    /// The next message queued for `connection`, as JSON.
    async fn next_json(connection: &Registration) -> Value {
        let MailboxEvent::Message(change) = connection.mailbox().next().await else {
            panic!("expected a message");
        };
        let value: Value = serde_json::from_str(change.text.as_str()).unwrap();
        assert_eq!(value["seq"], json!(change.seq), "queued with its own seq");
        value
    }

    /// Pushes `update` to one connection and returns the JSON it received.
    async fn pushed_update(update: NotificationUpdated) -> Value {
        let (pusher, hub) = pusher();
        let connection = connection_at(&hub, user(), update.seq - 1);
        pusher.handle(&DomainEvent::from(update)).await;
        next_json(&connection).await
    }

    #[tokio::test]
    async fn a_created_notification_is_pushed_as_the_contract_message() {
        let (pusher, hub) = pusher();
        let connection = connection_at(&hub, user(), 8);

        pusher.handle(&DomainEvent::from(created(9))).await;

        assert_eq!(
            next_json(&connection).await,
            json!({
                "type": "notification",
                "data": {
                    "notification_id": NOTIFICATION,
                    "user_id": USER,
                    "title": "Nova transação",
                    "message": "Uma nova transação foi criada",
                    "type": "INFO",
                    "status": "UNREAD",
                    "metadata": {"order": 42},
                    "created_at": "2025-12-31T18:00:00Z",
                    "read_at": null,
                    "archived_at": null
                },
                "unread_count": 5,
                "seq": 9
            })
        );
    }

    #[tokio::test]
    async fn each_update_type_is_pushed_as_the_contract_message() {
        let at = datetime!(2025-12-31 18:05 UTC);
        let cases = [
            (
                update(NotificationChange::Read { read_at: at }, true, 2),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "read", "unread_count": 3, "seq": 2,
                       "data": {"status": "READ", "read_at": "2025-12-31T18:05:00Z"}}),
            ),
            (
                update(NotificationChange::Unread, true, 3),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "unread", "unread_count": 3, "seq": 3,
                       "data": {"status": "UNREAD"}}),
            ),
            (
                update(NotificationChange::Archived { archived_at: at }, true, 4),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "archive", "unread_count": 3, "seq": 4,
                       "data": {"status": "ARCHIVED", "archived_at": "2025-12-31T18:05:00Z"}}),
            ),
            (
                update(NotificationChange::Deleted, true, 5),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "delete", "unread_count": 3, "seq": 5, "data": {}}),
            ),
            (
                update(
                    NotificationChange::AllRead {
                        read_at: at,
                        updated: 7,
                    },
                    false,
                    6,
                ),
                json!({"type": "notification_update", "notification_id": null,
                       "update_type": "read_all", "unread_count": 3, "seq": 6,
                       "data": {"status": "READ", "read_at": "2025-12-31T18:05:00Z", "updated": 7}}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(pushed_update(event).await, expected);
        }
    }

    #[tokio::test]
    async fn every_connection_of_the_user_gets_the_same_serialized_bytes() {
        let (pusher, hub) = pusher();
        let phone = connection_at(&hub, user(), 0);
        let laptop = hub.register(user()).unwrap();

        pusher
            .handle(&DomainEvent::from(update(
                NotificationChange::Deleted,
                true,
                1,
            )))
            .await;

        let (MailboxEvent::Message(a), MailboxEvent::Message(b)) =
            (phone.mailbox().next().await, laptop.mailbox().next().await)
        else {
            panic!("expected two messages");
        };
        assert_eq!(
            a.text.as_bytes().as_ptr(),
            b.text.as_bytes().as_ptr(),
            "serialized once"
        );
    }

    #[tokio::test]
    async fn changes_arriving_out_of_order_are_queued_in_seq_order_once() {
        let (pusher, hub) = pusher();
        let connection = connection_at(&hub, user(), 0);
        for seq in [2, 1, 1, 3, 2] {
            pusher.handle(&DomainEvent::from(created(seq))).await;
        }
        for seq in 1..=3 {
            assert_eq!(next_json(&connection).await["seq"], seq);
        }
        assert_eq!(
            connection.mailbox().next().now_or_never(),
            None,
            "no repeat"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_change_is_read_from_the_log_once_for_all_connections_of_the_user() {
        let mut repository = MockNotificationRepository::new();
        repository
            .expect_changes_after()
            .withf(|user_id, after, _| *user_id == user() && *after == 1)
            .times(1)
            .returning(|_, _, _| {
                Ok(ChangesAfter::Kept {
                    changes: vec![created(2).into(), created(3).into()],
                    latest: InboxPosition {
                        seq: 3,
                        unread_count: 5,
                    },
                })
            });
        let (pusher, hub) = pusher_reading(repository);
        let connections: Vec<_> = (0..3).map(|_| connection_at(&hub, user(), 0)).collect();
        pusher.handle(&DomainEvent::from(created(1))).await;
        // 2 was lost; 3 arrives, then nothing.
        pusher.handle(&DomainEvent::from(created(3))).await;

        for connection in &connections {
            for seq in 1..=3 {
                assert_eq!(next_json(connection).await["seq"], seq);
            }
        }
    }

    #[tokio::test]
    async fn an_event_without_seq_from_an_older_release_is_not_pushed() {
        let (pusher, hub) = pusher();
        let connection = connection_at(&hub, user(), 0);
        pusher.handle(&DomainEvent::from(created(0))).await;
        assert_eq!(connection.mailbox().next().now_or_never(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_bus_gap_is_healed_from_the_log_without_closing_any_socket() {
        let mut repository = MockNotificationRepository::new();
        repository.expect_latest_seqs().times(1).returning(|users| {
            Ok(users
                .iter()
                .map(|user| {
                    (
                        *user,
                        InboxPosition {
                            seq: 2,
                            unread_count: 5,
                        },
                    )
                })
                .collect())
        });
        repository
            .expect_changes_after()
            .times(1)
            .returning(|_, _, _| {
                Ok(ChangesAfter::Kept {
                    changes: vec![created(2).into()],
                    latest: InboxPosition {
                        seq: 2,
                        unread_count: 5,
                    },
                })
            });
        let (pusher, hub) = pusher_reading(repository);
        let connection = connection_at(&hub, user(), 1);

        pusher.on_gap().await;

        assert_eq!(next_json(&connection).await["seq"], 2);
    }

    #[tokio::test]
    async fn a_bus_gap_the_log_cannot_heal_tells_every_connection_to_resync() {
        let mut repository = MockNotificationRepository::new();
        repository
            .expect_latest_seqs()
            .returning(|_| Err(RepositoryError::Unavailable("database down".into())));
        let (pusher, hub) = pusher_reading(repository);
        let mine = connection_at(&hub, user(), 0);
        let theirs = connection_at(&hub, UserId::from_uuid(uuid::Uuid::new_v4()), 0);

        pusher.on_gap().await;

        assert_eq!(mine.mailbox().next().await, MailboxEvent::Resync);
        assert_eq!(theirs.mailbox().next().await, MailboxEvent::Resync);
    }

    #[tokio::test]
    async fn a_user_with_no_connection_here_is_reached_by_nothing() {
        let (pusher, hub) = pusher();
        let someone_else = connection_at(&hub, UserId::from_uuid(uuid::Uuid::new_v4()), 0);
        pusher
            .handle(&DomainEvent::from(update(
                NotificationChange::Unread,
                true,
                1,
            )))
            .await;
        assert_eq!(
            someone_else.mailbox().next().now_or_never(),
            None,
            "another user's connection hears nothing"
        );
    }
}
