//! # notification-domain
//!
//! The heart of the notification service: what a notification *is* and what may
//! happen to it, with no knowledge of HTTP, databases or async runtimes.
//!
//! - [`ids`]: the value objects [`NotificationId`] (UUIDv7, sorts by creation time)
//!   and [`UserId`].
//! - [`content`]: validated newtypes for the user-supplied parts ([`Title`],
//!   [`Message`], [`Metadata`]) and the [`NotificationDraft`] built from them.
//! - [`notification`]: the [`Notification`] entity, its [`NotificationType`] and
//!   [`NotificationStatus`], and the status transitions.
//! - [`status_change`]: [`StatusChange`], the kinds of change to one
//!   notification's status.
//! - [`events`]: the domain events [`NotificationCreated`] and
//!   [`NotificationUpdated`] that the application publishes after each change.
//! - [`idempotency`] and [`fingerprint`]: [`IdempotencyKey`] and
//!   [`RequestFingerprint`], so that a publisher repeating a create request
//!   gets the first result and nobody is notified twice.
//! - [`repository`] and [`publisher`]: the ports that infrastructure implements.
//!   With the `mocks` feature, mockall mocks of every port are exported for other
//!   crates' unit tests.
//! - [`sync`]: the per-user change sequence: [`InboxPosition`] and
//!   [`ChangesAfter`], what the change log answers.
//! - [`error`]: validation and port errors.
//!
//! Other bounded contexts in the same binary depend on this crate (and on
//! `notification-application`) to create notifications; see `docs/embedding.md`.

pub mod content;
pub mod error;
pub mod events;
pub mod fingerprint;
pub mod idempotency;
pub mod ids;
pub mod notification;
pub mod publisher;
pub mod repository;
pub mod status_change;
pub mod sync;
pub mod timestamp;

pub use content::{Message, Metadata, NotificationDraft, Title};
pub use error::{BoxError, PublishError, RepositoryError, ValidationError};
pub use events::{DomainEvent, NotificationChange, NotificationCreated, NotificationUpdated};
pub use fingerprint::RequestFingerprint;
pub use idempotency::{
    BatchIdempotencyRecord, IdempotencyClaim, IdempotencyKey, IdempotencyRecord,
    IdempotentBatchInsert, IdempotentInsert, IDEMPOTENCY_KEY_TTL,
};
pub use ids::{NotificationId, UserId};
pub use notification::{Notification, NotificationStatus, NotificationType, StoredNotification};
pub use publisher::{EventPublisher, EventSubscriber};
pub use repository::{
    ListQuery, NotificationRepository, ReadAllOutcome, StatusChangeOutcome, StatusFilter,
};
pub use status_change::StatusChange;
pub use sync::{ChangesAfter, InboxPosition, MAX_CHANGES_PER_READ};
pub use timestamp::now;

#[cfg(any(test, feature = "mocks"))]
pub use publisher::{MockEventPublisher, MockEventSubscriber};
#[cfg(any(test, feature = "mocks"))]
pub use repository::MockNotificationRepository;
