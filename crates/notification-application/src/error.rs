//! Errors of the use cases.

use notification_domain::{PublishError, RepositoryError, ValidationError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    /// Input broke a rule of the notification resource.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The publisher already used this idempotency key (within its 24 hours)
    /// for a different request; nothing was stored.
    #[error("idempotency key already used for a different request")]
    IdempotencyKeyReused,
    /// No such notification for this user (whether it does not exist or
    /// belongs to someone else: the two are indistinguishable on purpose).
    #[error("notification not found")]
    NotFound,
    /// Storage cannot be reached, or a change kept losing races; retry later.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] Option<RepositoryError>),
    /// Anything else; logged with its cause, reported without internals.
    #[error("internal error")]
    Internal(#[source] RepositoryError),
}

impl From<RepositoryError> for ServiceError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Unavailable(_) => Self::Unavailable(Some(error)),
            RepositoryError::Corrupt(_) | RepositoryError::Other(_) => Self::Internal(error),
        }
    }
}

/// Why the service is not ready to take traffic.
#[derive(Debug, Error)]
pub enum ReadinessError {
    #[error("database is not answering")]
    Storage(#[source] RepositoryError),
    #[error("event bus is not answering")]
    EventBus(#[source] PublishError),
}
