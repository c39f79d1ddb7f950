//! # notification-application
//!
//! The use cases of the notification service, written against the domain's
//! ports only:
//!
//! - [`service`]: [`NotificationService`], the one entry point for creating,
//!   reading and changing notifications, from REST handlers and from other
//!   bounded contexts alike. Every change is stored first, then its domain
//!   event is published; a repeat that changes nothing publishes nothing.
//!   [`NotificationService::create`] decides whether a create is idempotent:
//!   given an [`Idempotency`] it creates once per publisher and key and
//!   answers a repeat with the first result ([`CreateOutcome`]).
//! - [`idempotency`]: [`Idempotency`], the publisher and key of a create
//!   that must happen once.
//! - [`error`]: [`ServiceError`], what a use case can fail with.
//! - [`page`]: the keyset-paginated listing result.
//! - [`realtime`]: real-time delivery: the connection gate, socket and
//!   session-authentication ports and their settings (pushing needs no port:
//!   the hub subscribes to the domain's events itself).

pub mod error;
pub mod idempotency;
pub mod outcome;
pub mod page;
pub mod realtime;
pub mod service;

pub use error::{ReadinessError, ServiceError};
pub use idempotency::Idempotency;
pub use outcome::{BatchOutcome, CreateOutcome};
pub use page::{Page, PageRequest, MAX_PAGE_SIZE};
pub use service::NotificationService;
