//! The event ports: publishing domain events and reacting to them.

use async_trait::async_trait;

use crate::error::PublishError;
use crate::events::DomainEvent;

/// Sends domain events to every subscriber, in this process or across nodes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: DomainEvent) -> Result<(), PublishError>;

    /// Answers when the bus can deliver events (readiness).
    async fn ping(&self) -> Result<(), PublishError>;
}

/// Reacts to domain events delivered by an event bus.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventSubscriber: Send + Sync {
    async fn handle(&self, event: &DomainEvent);

    /// Events may have been lost (the bus was disconnected); subscribers that
    /// keep derived state should resync.
    ///
    /// Called by a bus that can lose events, once it delivers again after a
    /// loss (never at its first start). Does nothing by default.
    async fn on_gap(&self) {}
}
