//! [`HubPushService`]: the application's `PushService`, backed by the [`Hub`].

use async_trait::async_trait;
use notification_application::realtime::{PushService, SharedText};
use notification_domain::{NotificationCreated, NotificationUpdated, UserId};
use notification_protocol::ServerMessage;
use time::OffsetDateTime;

use crate::realtime::hub::Hub;

/// Builds the contract's message for an event, serializes it once, and queues
/// the same bytes for every connection of the user on this node. After a gap
/// in the events it has every connection on this node closed with 1012.
///
/// Metrics: `ws_messages_pushed_total`, `ws_push_latency_seconds`,
/// `ws_resyncs_total` (gaps handled; the sockets closed are counted in
/// `ws_connections_closed_total{reason="resync"}`).
#[derive(Debug, Clone)]
pub struct HubPushService {
    hub: Hub,
}

impl HubPushService {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }

    fn push(
        &self,
        user_id: UserId,
        occurred_at: OffsetDateTime,
        kind: &'static str,
        message: impl FnOnce() -> ServerMessage,
    ) -> usize {
        // Most events find no connection on a given node: skip serializing.
        // A connection opened right now gets this change through `since`.
        if self.hub.connections_of(user_id) == 0 {
            return 0;
        }
        let text = match serde_json::to_string(&message()) {
            Ok(text) => SharedText::from(text),
            Err(error) => {
                tracing::error!(%user_id, error = %error, "push message not serializable");
                return 0;
            }
        };
        let reached = self.hub.send_to_user(user_id, &text);
        if reached > 0 {
            metrics::counter!("ws_messages_pushed_total", "type" => kind)
                .increment(u64::try_from(reached).unwrap_or(u64::MAX));
            let latency = (OffsetDateTime::now_utc() - occurred_at).as_seconds_f64();
            metrics::histogram!("ws_push_latency_seconds").record(latency.max(0.0));
        }
        reached
    }
}

#[async_trait]
impl PushService for HubPushService {
    async fn send_notification(&self, event: &NotificationCreated) -> usize {
        self.push(
            event.notification.user_id(),
            event.occurred_at,
            "notification",
            || ServerMessage::from(event),
        )
    }

    async fn send_notification_update(&self, event: &NotificationUpdated) -> usize {
        self.push(
            event.user_id,
            event.occurred_at,
            "notification_update",
            || ServerMessage::from(event),
        )
    }

    async fn resync_all(&self) -> usize {
        let told = self.hub.resync_all();
        metrics::counter!("ws_resyncs_total").increment(1);
        told
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::mailbox::MailboxEvent;
    use notification_application::realtime::RealtimeSettings;
    use notification_domain::{
        Notification, NotificationChange, NotificationDraft, NotificationId,
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
            occurred_at: datetime!(2025-12-31 18:05 UTC),
        }
    }

    /// Pushes `update` to one connection and returns the JSON it received.
    async fn pushed_update(update: NotificationUpdated) -> Value {
        let hub = hub();
        let connection = hub.register(user()).unwrap();
        let reached = HubPushService::new(hub.clone())
            .send_notification_update(&update)
            .await;
        assert_eq!(reached, 1);
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
            occurred_at: datetime!(2025-12-31 18:00 UTC),
        };

        let reached = HubPushService::new(hub.clone())
            .send_notification(&event)
            .await;

        assert_eq!(reached, 1);
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
                "unread_count": 5
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
                       "update_type": "read", "unread_count": 3,
                       "data": {"status": "READ", "read_at": "2025-12-31T18:05:00Z"}}),
            ),
            (
                update(NotificationChange::Unread, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "unread", "unread_count": 3,
                       "data": {"status": "UNREAD"}}),
            ),
            (
                update(NotificationChange::Archived { archived_at: at }, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "archive", "unread_count": 3,
                       "data": {"status": "ARCHIVED", "archived_at": "2025-12-31T18:05:00Z"}}),
            ),
            (
                update(NotificationChange::Deleted, true),
                json!({"type": "notification_update", "notification_id": NOTIFICATION,
                       "update_type": "delete", "unread_count": 3, "data": {}}),
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
                       "update_type": "read_all", "unread_count": 3,
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

        let reached = HubPushService::new(hub.clone())
            .send_notification_update(&update(NotificationChange::Deleted, true))
            .await;

        assert_eq!(reached, 2);
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
    async fn resync_all_tells_every_connection_of_every_user() {
        let hub = hub();
        let mine = hub.register(user()).unwrap();
        let theirs = hub
            .register(UserId::from_uuid(uuid::Uuid::new_v4()))
            .unwrap();

        let told = HubPushService::new(hub.clone()).resync_all().await;

        assert_eq!(told, 2);
        assert_eq!(mine.mailbox().next().await, MailboxEvent::Resync);
        assert_eq!(theirs.mailbox().next().await, MailboxEvent::Resync);
    }

    #[tokio::test]
    async fn a_user_with_no_connection_here_is_reached_by_nothing() {
        let hub = hub();
        let _someone_else = hub
            .register(UserId::from_uuid(uuid::Uuid::new_v4()))
            .unwrap();
        let reached = HubPushService::new(hub)
            .send_notification_update(&update(NotificationChange::Unread, true))
            .await;
        assert_eq!(reached, 0);
    }
}
