//! [`Pusher`]: the hub's subscriber on the event bus. Each domain event
//! becomes the contract's message, serialized once, queued for every
//! connection of its user on this node; a gap in the events has every
//! connection on this node closed with 1012 so its client resumes.

use async_trait::async_trait;
use notification_domain::{DomainEvent, EventSubscriber};
use notification_protocol::{ServerMessage, UpdateType};
use time::OffsetDateTime;

use crate::realtime::hub::Hub;
use crate::realtime::outbound::encode;

/// Subscribes to the event bus and pushes every event to its user's sockets.
///
/// Metrics: `ws_messages_pushed_total`, `ws_push_latency_seconds`,
/// `ws_resyncs_total` (gaps handled; the sockets closed are counted in
/// `ws_connections_closed_total{reason="resync"}`).
#[derive(Debug, Clone)]
pub struct Pusher {
    hub: Hub,
}

impl Pusher {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

#[async_trait]
impl EventSubscriber for Pusher {
    /// Queues the event's message for the user's connections on this node
    /// (none, on a multi-node deployment, is normal).
    async fn handle(&self, event: &DomainEvent) {
        let user_id = event.user_id();
        // Most events find no connection on a given node: skip serializing.
        // A connection opened right now gets this change through `since`.
        if self.hub.connections_of(user_id) == 0 {
            return;
        }
        let (kind, message) = match event {
            DomainEvent::NotificationCreated(created) => {
                ("notification", ServerMessage::from(created))
            }
            DomainEvent::NotificationUpdated(updated) => {
                ("notification_update", ServerMessage::from(updated))
            }
        };
        let Some(text) = encode(&message) else {
            return;
        };
        let sockets = self.hub.send_to_user(user_id, &text);
        if sockets > 0 {
            metrics::counter!("ws_messages_pushed_total", "type" => kind)
                .increment(u64::try_from(sockets).unwrap_or(u64::MAX));
            let latency = (OffsetDateTime::now_utc() - event.occurred_at()).as_seconds_f64();
            metrics::histogram!("ws_push_latency_seconds").record(latency.max(0.0));
        }
        match event {
            DomainEvent::NotificationCreated(created) => tracing::debug!(
                %user_id,
                notification_id = %created.notification.id(),
                sockets,
                "notification pushed"
            ),
            DomainEvent::NotificationUpdated(updated) => tracing::debug!(
                %user_id,
                notification_id = updated.notification_id.map(tracing::field::display),
                update_type = UpdateType::of(&updated.change).as_str(),
                sockets,
                "notification update pushed"
            ),
        }
    }

    /// The sockets stayed open while events were lost: without this, their
    /// clients would never learn they missed something. Each socket is
    /// closed with 1012 (after what was queued before) and its client
    /// resumes with `since`; sockets opened afterwards are not affected.
    async fn on_gap(&self) {
        let sockets = self.hub.resync_all();
        metrics::counter!("ws_resyncs_total").increment(1);
        tracing::warn!(
            sockets,
            "events may have been missed; every socket on this node was told to resume with since"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::mailbox::MailboxEvent;
    use futures_util::FutureExt;
    use notification_application::realtime::RealtimeSettings;
    use notification_domain::{
        Notification, NotificationChange, NotificationCreated, NotificationDraft, NotificationId,
        NotificationUpdated, UserId,
    };
    use serde_json::{json, Value};
    use time::macros::datetime;

    const USER: &str = "123e4567-e89b-12d3-a456-426614174001";
    const NOTIFICATION: &str = "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f";

    fn user() -> UserId {
        USER.parse().unwrap()
    }

    fn hub() -> Hub {
        Hub::new(&RealtimeSettings::default())
    }

    fn update(change: NotificationChange, with_id: bool) -> NotificationUpdated {
        NotificationUpdated {
            user_id: user(),
            notification_id: with_id.then(|| NOTIFICATION.parse().unwrap()),
            change,
            unread_count: 3,
            seq: 0,
            occurred_at: datetime!(2025-12-31 18:05 UTC),
        }
    }

    /// Pushes `update` to one connection and returns the JSON it received.
    async fn pushed_update(update: NotificationUpdated) -> Value {
        let hub = hub();
        let connection = hub.register(user()).unwrap();
        Pusher::new(hub.clone())
            .handle(&DomainEvent::from(update))
            .await;
        let MailboxEvent::Message(text) = connection.mailbox().next().await else {
            panic!("expected a message");
        };
        serde_json::from_str(text.as_str()).unwrap()
    }

    #[tokio::test]
    async fn a_created_notification_is_pushed_as_the_contract_message() {
        let hub = hub();
        let connection = hub.register(user()).unwrap();
        let draft = NotificationDraft::parse(
            user(),
            "Nova transação",
            "Uma nova transação foi criada",
            None,
            Some(json!({"order": 42})),
        )
        .unwrap();
        let event = NotificationCreated {
            notification: Notification::new(
                draft,
                NOTIFICATION.parse::<NotificationId>().unwrap(),
                datetime!(2025-12-31 18:00 UTC),
            ),
            unread_count: 5,
            seq: 0,
            occurred_at: datetime!(2025-12-31 18:00 UTC),
        };

        Pusher::new(hub.clone())
            .handle(&DomainEvent::from(event))
            .await;

        let MailboxEvent::Message(text) = connection.mailbox().next().await else {
            panic!("expected a message");
        };
        assert_eq!(
            serde_json::from_str::<Value>(text.as_str()).unwrap(),
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
                "seq": 0
            })
        );
    }

    #[tokio::test]
    async fn each_update_type_is_pushed_as_the_contract_message() {
        let at = datetime!(2025-12-31 18:05 UTC);
        let cases = [
            (
                update(NotificationChange::Read { read_at: at }, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "read", "unread_count": 3, "seq": 0,
                       "data": {"status": "READ", "read_at": "2025-12-31T18:05:00Z"}}),
            ),
            (
                update(NotificationChange::Unread, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "unread", "unread_count": 3, "seq": 0,
                       "data": {"status": "UNREAD"}}),
            ),
            (
                update(NotificationChange::Archived { archived_at: at }, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "archive", "unread_count": 3, "seq": 0,
                       "data": {"status": "ARCHIVED", "archived_at": "2025-12-31T18:05:00Z"}}),
            ),
            (
                update(NotificationChange::Deleted, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "delete", "unread_count": 3, "seq": 0, "data": {}}),
            ),
            (
                update(
                    NotificationChange::AllRead {
                        read_at: at,
                        updated: 7,
                    },
                    false,
                ),
                json!({"type": "notification_update", "notification_id": null,
                       "update_type": "read_all", "unread_count": 3, "seq": 0,
                       "data": {"status": "READ", "read_at": "2025-12-31T18:05:00Z", "updated": 7}}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(pushed_update(event).await, expected);
        }
    }

    #[tokio::test]
    async fn every_connection_of_the_user_gets_the_same_serialized_bytes() {
        let hub = hub();
        let phone = hub.register(user()).unwrap();
        let laptop = hub.register(user()).unwrap();

        Pusher::new(hub.clone())
            .handle(&DomainEvent::from(update(
                NotificationChange::Deleted,
                true,
            )))
            .await;

        let (MailboxEvent::Message(a), MailboxEvent::Message(b)) =
            (phone.mailbox().next().await, laptop.mailbox().next().await)
        else {
            panic!("expected two messages");
        };
        assert_eq!(
            a.as_bytes().as_ptr(),
            b.as_bytes().as_ptr(),
            "serialized once"
        );
    }

    #[tokio::test]
    async fn a_gap_tells_every_connection_of_every_user_to_resync() {
        let hub = hub();
        let mine = hub.register(user()).unwrap();
        let theirs = hub
            .register(UserId::from_uuid(uuid::Uuid::new_v4()))
            .unwrap();

        Pusher::new(hub.clone()).on_gap().await;

        assert_eq!(mine.mailbox().next().await, MailboxEvent::Resync);
        assert_eq!(theirs.mailbox().next().await, MailboxEvent::Resync);
    }

    #[tokio::test]
    async fn a_user_with_no_connection_here_is_reached_by_nothing() {
        let hub = hub();
        let someone_else = hub
            .register(UserId::from_uuid(uuid::Uuid::new_v4()))
            .unwrap();
        Pusher::new(hub)
            .handle(&DomainEvent::from(update(NotificationChange::Unread, true)))
            .await;
        assert_eq!(
            someone_else.mailbox().next().now_or_never(),
            None,
            "another user's connection hears nothing"
        );
    }
}
