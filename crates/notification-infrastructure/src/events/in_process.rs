//! The event bus of a single node: subscribers are called inline.

use std::sync::Arc;

use async_trait::async_trait;
use notification_domain::{DomainEvent, EventPublisher, EventSubscriber, PublishError};

use super::subscribers::Subscribers;

/// Hands every published event to every subscriber of this process.
///
/// `publish` awaits each subscriber's `handle` in turn, in subscription order,
/// before it returns: there is no queue, so no event is ever dropped because a
/// consumer lagged, and when `publish` returns every subscriber has seen the
/// event. Subscribers must therefore return quickly (the WebSocket hub only
/// queues the event for each socket). Nothing can be lost on the way, so
/// [`EventSubscriber::on_gap`] is never called.
#[derive(Default)]
pub struct InProcessEventBus {
    subscribers: Subscribers,
}

impl InProcessEventBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscriber; it hears every event published from now on.
    pub fn subscribe(&self, subscriber: Arc<dyn EventSubscriber>) {
        self.subscribers.add(subscriber);
    }
}

#[async_trait]
impl EventPublisher for InProcessEventBus {
    async fn publish(&self, event: DomainEvent) -> Result<(), PublishError> {
        self.subscribers.dispatch(&event).await;
        Ok(())
    }

    /// Always ready: nothing outside this process is involved.
    async fn ping(&self) -> Result<(), PublishError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mockall::Sequence;
    use notification_domain::{
        now, MockEventSubscriber, NotificationChange, NotificationUpdated, UserId,
    };

    fn all_read_event() -> DomainEvent {
        NotificationUpdated {
            user_id: UserId::from_uuid(uuid::Uuid::new_v4()),
            notification_id: None,
            change: NotificationChange::AllRead {
                read_at: now(),
                updated: 3,
            },
            unread_count: 0,
            seq: 0,
            occurred_at: now(),
        }
        .into()
    }

    #[tokio::test]
    async fn every_subscriber_handles_the_event_in_subscription_order_before_publish_returns() {
        let event = all_read_event();
        let mut order = Sequence::new();
        let mut first = MockEventSubscriber::new();
        let mut second = MockEventSubscriber::new();
        let expected = event.clone();
        first
            .expect_handle()
            .withf(move |e| *e == expected)
            .times(1)
            .in_sequence(&mut order)
            .return_const(());
        let expected = event.clone();
        second
            .expect_handle()
            .withf(move |e| *e == expected)
            .times(1)
            .in_sequence(&mut order)
            .return_const(());
        let (first, second) = (Arc::new(first), Arc::new(second));
        let bus = InProcessEventBus::new();
        bus.subscribe(first.clone());
        bus.subscribe(second.clone());

        bus.publish(event).await.unwrap();

        // Both calls happened before `publish` returned: verify them now.
        drop(bus);
        Arc::into_inner(first).unwrap().checkpoint();
        Arc::into_inner(second).unwrap().checkpoint();
    }

    #[tokio::test]
    async fn each_published_event_reaches_a_subscriber_once() {
        let mut subscriber = MockEventSubscriber::new();
        subscriber.expect_handle().times(3).return_const(());
        let bus = InProcessEventBus::new();
        bus.subscribe(Arc::new(subscriber));

        for _ in 0..3 {
            bus.publish(all_read_event()).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_subscriber_added_later_hears_only_later_events() {
        let bus = InProcessEventBus::new();
        bus.publish(all_read_event()).await.unwrap();
        let mut late = MockEventSubscriber::new();
        late.expect_handle().times(1).return_const(());
        bus.subscribe(Arc::new(late));

        bus.publish(all_read_event()).await.unwrap();
    }
}
