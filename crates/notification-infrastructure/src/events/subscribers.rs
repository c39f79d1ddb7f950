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
        let snapshot = self
            .list
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for subscriber in snapshot {
            subscriber.handle(event).await;
        }
    }
}
