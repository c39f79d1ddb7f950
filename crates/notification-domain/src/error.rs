//! Errors of the domain and of its ports.

use thiserror::Error;

/// Any error behind a port, kept for its `Display`/`source` chain in logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A rule of the notification resource was broken by some input.
///
/// `field` names the offending field of the request (`title`, `metadata`, …) so
/// the API can answer with the contract's `field`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Failure of a [`NotificationRepository`](crate::NotificationRepository).
#[derive(Debug, Error)]
pub enum RepositoryError {
    /// The database cannot be reached right now (connection refused, pool
    /// timeout). Callers answer 503 and may retry later.
    #[error("storage is unavailable")]
    Unavailable(#[source] BoxError),
    /// Stored data no longer satisfies the domain's rules.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else the database reported.
    #[error("storage failed")]
    Other(#[source] BoxError),
}

/// Failure of an [`EventPublisher`](crate::EventPublisher).
#[derive(Debug, Error)]
pub enum PublishError {
    #[error("event bus is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("event could not be published")]
    Other(#[source] BoxError),
}
