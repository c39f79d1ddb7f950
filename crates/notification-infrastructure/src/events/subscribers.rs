//! The list of a node's event subscribers, shared by every bus.

use std::sync::{Arc, PoisonError, RwLock};

use notification_domain::{DomainEvent, EventSubscriber};

/// This node's subscribers. `dispatch` awaits each one in subscription order:
/// there is no queue, so no event is dropped because a consumer lagged.
/// Subscribers must return quickly (the WebSocket hub only queues the event for
/// each socket).
#[derive(Default)]
pub(crate) struct Subscribers {
    // A std lock: held only to add a subscriber or to copy the list, never
    // across an await.
    list: RwLock<Vec<Arc<dyn EventSubscriber>>>,
}

impl Subscribers {
    /// Adds a subscriber; it hears every event dispatched from now on.
    pub(crate) fn add(&self, subscriber: Arc<dyn EventSubscriber>) {
        self.list
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(subscriber);
    }

    /// Hands `event` to every subscriber, one after the other.
    pub(crate) async fn dispatch(&self, event: &DomainEvent) {
        for subscriber in self.snapshot() {
            subscriber.handle(event).await;
        }
    }

    /// Tells every subscriber, one after the other, that events may have been
    /// lost ([`EventSubscriber::on_gap`]). Only a bus that can lose events
    /// calls it: the Redis bus, after its subscription was restored.
    pub(crate) async fn dispatch_gap(&self) {
        for subscriber in self.snapshot() {
            subscriber.on_gap().await;
        }
    }

    /// A copy of the list, so that no lock is held while subscribers run.
    fn snapshot(&self) -> Vec<Arc<dyn EventSubscriber>> {
        self.list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mockall::Sequence;
    use notification_domain::MockEventSubscriber;

    #[tokio::test]
    async fn a_gap_is_told_to_every_subscriber_in_subscription_order() {
        let mut order = Sequence::new();
        let mut first = MockEventSubscriber::new();
        let mut second = MockEventSubscriber::new();
        first
            .expect_on_gap()
            .times(1)
            .in_sequence(&mut order)
            .return_const(());
        second
            .expect_on_gap()
            .times(1)
            .in_sequence(&mut order)
            .return_const(());
        first.expect_handle().never();
        second.expect_handle().never();
        let subscribers = Subscribers::default();
        subscribers.add(Arc::new(first));
        subscribers.add(Arc::new(second));

        subscribers.dispatch_gap().await;
    }
}
