//! [`NotificationEventHandler`]: turns each domain event into a push to the
//! user's open sockets on this node, and a gap in the events into a request
//! to every socket to resume.

use std::sync::Arc;

use async_trait::async_trait;
use notification_domain::{DomainEvent, EventSubscriber, NotificationChange};

use crate::realtime::push::PushService;

/// Subscribes to the event bus and pushes every event to its user's sockets.
#[derive(Clone)]
pub struct NotificationEventHandler {
    push: Arc<dyn PushService>,
}

impl NotificationEventHandler {
    pub fn new(push: Arc<dyn PushService>) -> Self {
        Self { push }
    }
}

#[async_trait]
impl EventSubscriber for NotificationEventHandler {
    async fn handle(&self, event: &DomainEvent) {
        match event {
            DomainEvent::NotificationCreated(created) => {
                let sockets = self.push.send_notification(created).await;
                tracing::debug!(
                    user_id = %created.notification.user_id(),
                    notification_id = %created.notification.id(),
                    sockets,
                    "notification pushed"
                );
            }
            DomainEvent::NotificationUpdated(updated) => {
                let sockets = self.push.send_notification_update(updated).await;
                tracing::debug!(
                    user_id = %updated.user_id,
                    notification_id = updated.notification_id.map(tracing::field::display),
                    update_type = update_type(&updated.change),
                    sockets,
                    "notification update pushed"
                );
            }
        }
    }

    /// The sockets stayed open while events were lost: without this, their
    /// clients would never learn they missed something. Each socket is closed
    /// with 1012 and its client resumes with `since`.
    async fn on_gap(&self) {
        let sockets = self.push.resync_all().await;
        tracing::warn!(
            sockets,
            "events may have been missed; every socket on this node was told to resume with since"
        );
    }
}

/// The contract's `update_type` spelling, for logs.
fn update_type(change: &NotificationChange) -> &'static str {
    match change {
        NotificationChange::Read { .. } => "read",
        NotificationChange::Unread => "unread",
        NotificationChange::Archived { .. } => "archive",
        NotificationChange::Deleted => "delete",
        NotificationChange::AllRead { .. } => "read_all",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::push::MockPushService;
    use notification_domain::{
        Notification, NotificationCreated, NotificationDraft, NotificationId, NotificationUpdated,
        UserId,
    };
    use time::macros::datetime;

    fn user() -> UserId {
        "123e4567-e89b-12d3-a456-426614174001".parse().unwrap()
    }

    fn created() -> NotificationCreated {
        let draft =
            NotificationDraft::parse(user(), "Nova transação", "Criada", None, None).unwrap();
        NotificationCreated {
            notification: Notification::new(
                draft,
                NotificationId::new(),
                datetime!(2025-12-31 18:00 UTC),
            ),
            unread_count: 4,
            occurred_at: datetime!(2025-12-31 18:00 UTC),
        }
    }

    fn updated(change: NotificationChange) -> NotificationUpdated {
        NotificationUpdated {
            user_id: user(),
            notification_id: Some(NotificationId::new()),
            change,
            unread_count: 2,
            occurred_at: datetime!(2025-12-31 18:05 UTC),
        }
    }

    #[tokio::test]
    async fn a_created_notification_is_pushed_as_a_notification() {
        let event = created();
        let expected = event.clone();
        let mut push = MockPushService::new();
        push.expect_send_notification()
            .withf(move |e| *e == expected)
            .times(1)
            .return_const(2_usize);
        push.expect_send_notification_update().never();
        let handler = NotificationEventHandler::new(Arc::new(push));

        handler.handle(&DomainEvent::from(event)).await;
    }

    #[tokio::test]
    async fn every_kind_of_update_is_pushed_as_an_update() {
        let at = datetime!(2025-12-31 18:05 UTC);
        for change in [
            NotificationChange::Read { read_at: at },
            NotificationChange::Unread,
            NotificationChange::Archived { archived_at: at },
            NotificationChange::Deleted,
            NotificationChange::AllRead {
                read_at: at,
                updated: 3,
            },
        ] {
            let event = updated(change);
            let expected = event.clone();
            let mut push = MockPushService::new();
            push.expect_send_notification_update()
                .withf(move |e| *e == expected)
                .times(1)
                .return_const(0_usize);
            push.expect_send_notification().never();
            let handler = NotificationEventHandler::new(Arc::new(push));

            handler.handle(&DomainEvent::from(event)).await;
        }
    }

    #[tokio::test]
    async fn a_gap_tells_every_socket_to_resume_and_pushes_nothing() {
        let mut push = MockPushService::new();
        push.expect_resync_all().times(1).return_const(3_usize);
        push.expect_send_notification().never();
        push.expect_send_notification_update().never();
        let handler = NotificationEventHandler::new(Arc::new(push));

        handler.on_gap().await;
    }

    #[tokio::test]
    async fn an_event_does_not_resync_anyone() {
        let mut push = MockPushService::new();
        push.expect_send_notification().return_const(1_usize);
        push.expect_resync_all().never();
        let handler = NotificationEventHandler::new(Arc::new(push));

        handler.handle(&DomainEvent::from(created())).await;
    }

    #[test]
    fn update_types_use_the_contract_spelling() {
        let at = datetime!(2025-12-31 18:05 UTC);
        assert_eq!(
            update_type(&NotificationChange::Read { read_at: at }),
            "read"
        );
        assert_eq!(
            update_type(&NotificationChange::Archived { archived_at: at }),
            "archive"
        );
        assert_eq!(
            update_type(&NotificationChange::AllRead {
                read_at: at,
                updated: 1
            }),
            "read_all"
        );
    }
}
