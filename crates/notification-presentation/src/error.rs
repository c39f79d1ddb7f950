//! [`ApiError`]: every way a request can fail, mapped once to the contract's
//! status codes and `{"error": {"code", "message", "field"?}}` body.

use std::error::Error as StdError;
use std::fmt::Write as _;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use notification_application::ServiceError;
use notification_domain::{BoxError, ValidationError};
use notification_protocol::{ErrorCode, ErrorResponse};
use thiserror::Error;

use crate::auth::AuthError;
use crate::idempotency::IDEMPOTENCY_KEY_HEADER;

/// An error answered to the client. The `Display` text is the body's `message`,
/// so no variant displays anything internal.
#[derive(Debug, Error)]
pub enum ApiError {
    /// 401 with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(#[from] AuthError),
    /// 403: authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: no such route, or no such notification of this user.
    #[error("{0}")]
    NotFound(&'static str),
    /// 405 with `Allow`.
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: &'static str },
    /// 422 with the offending `field`.
    #[error("{0}")]
    Validation(ValidationError),
    /// 422 for one item of a batch: `field` names it, like
    /// `notifications[3].title`.
    #[error("{field}: {message}")]
    InvalidBatchItem { field: String, message: String },
    /// 422 `idempotency_key_reused`, field `Idempotency-Key`: the publisher
    /// already used this key for a different request.
    #[error("this Idempotency-Key was already used with a different request; use a new key for a new request")]
    IdempotencyKeyReused,
    /// 413.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 400: the request cannot even be read (malformed JSON, bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// 410 `resync_required`: the changes after the asked seq are no longer
    /// kept, or it is beyond the user's latest (`latest`).
    #[error("the changes after this seq are no longer kept, or it is beyond the latest ({latest}); reload the inbox and go on from its seq")]
    ResyncRequired { latest: u64 },
    /// 429: the user holds the maximum number of WebSocket connections.
    #[error("{0}")]
    TooManyConnections(String),
    /// 503: storage or the event bus is not answering; retry later. The cause
    /// is logged, not sent.
    #[error("service temporarily unavailable")]
    ServiceUnavailable(#[source] Option<BoxError>),
    /// 500: a bug or an unexpected failure. The cause is logged, not sent.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ApiError {
    /// A 500 for any cause (logged when answered).
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// The contract's `code` for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Self::Validation(_) | Self::InvalidBatchItem { .. } => ErrorCode::ValidationFailed,
            Self::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::ResyncRequired { .. } => ErrorCode::ResyncRequired,
            Self::TooManyConnections(_) => ErrorCode::TooManyConnections,
            Self::ServiceUnavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The body sent to the client.
    pub fn to_body(&self) -> ErrorResponse {
        let body = ErrorResponse::new(self.code(), self.to_string());
        match self {
            Self::Validation(error) => body.with_field(error.field),
            Self::InvalidBatchItem { field, .. } => body.with_field(field.as_str()),
            Self::IdempotencyKeyReused => body.with_field(IDEMPOTENCY_KEY_HEADER),
            _ => body,
        }
    }

    /// Logs what the client is not told, once, where the response is built.
    fn log_cause(&self) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause_chain(cause.as_ref()), "request failed");
            }
            Self::ServiceUnavailable(Some(cause)) => {
                tracing::warn!(error = %cause_chain(cause.as_ref()), "dependency unavailable");
            }
            Self::ServiceUnavailable(None) => tracing::warn!("service unavailable"),
            Self::Unauthorized(AuthError::Invalid { reason }) => {
                tracing::debug!(%reason, "token refused");
            }
            _ => {}
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::Validation(error)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Validation(error) => Self::Validation(error),
            ServiceError::IdempotencyKeyReused => Self::IdempotencyKeyReused,
            ServiceError::NotFound => Self::NotFound("notification not found"),
            ServiceError::Unavailable(cause) => {
                Self::ServiceUnavailable(cause.map(|c| Box::new(c) as BoxError))
            }
            ServiceError::Internal(_) => Self::Internal(Box::new(error)),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Validation(_) | Self::InvalidBatchItem { .. } | Self::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::ResyncRequired { .. } => StatusCode::GONE,
            Self::TooManyConnections(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log_cause();
        let mut response = HttpResponse::build(self.status_code());
        match self {
            // RFC 6750 §3: a request without a token gets the bare challenge,
            // a refused token says so.
            Self::Unauthorized(AuthError::MissingToken) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::Unauthorized(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
            }
            // Outages and a full write queue pass within seconds: say when
            // to try again rather than leave each client to guess.
            Self::ServiceUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ => {}
        }
        response.json(self.to_body())
    }
}

/// `error: cause: cause…`, for logs.
fn cause_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::RepositoryError;

    #[test]
    fn an_internal_error_tells_the_client_nothing_about_its_cause() {
        let error = ApiError::from(ServiceError::Internal(RepositoryError::Other(
            "relation \"notifications\" does not exist".into(),
        )));
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&error.to_body()).unwrap();
        assert!(!body.contains("relation"), "{body}");
        assert_eq!(
            body,
            r#"{"error":{"code":"internal","message":"internal error"}}"#
        );
    }

    #[test]
    fn the_cause_chain_names_every_cause() {
        let error = ServiceError::Internal(RepositoryError::Other("disk full".into()));
        assert_eq!(
            cause_chain(&error),
            "internal error: storage failed: disk full"
        );
    }

    #[test]
    fn storage_unavailable_is_503() {
        let error = ApiError::from(ServiceError::Unavailable(Some(
            RepositoryError::Unavailable("connection refused".into()),
        )));
        assert_eq!(error.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code(), ErrorCode::ServiceUnavailable);
        let response = error.error_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            "1",
            "a 503 says when to try again"
        );
    }

    #[test]
    fn a_reused_idempotency_key_is_a_422_naming_the_header() {
        let error = ApiError::from(ServiceError::IdempotencyKeyReused);
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = error.to_body();
        assert_eq!(body.error.code, ErrorCode::IdempotencyKeyReused);
        assert_eq!(body.error.field.as_deref(), Some("Idempotency-Key"));
    }

    #[test]
    fn validation_errors_carry_their_field() {
        let error = ApiError::from(ValidationError::new("title", "must not be empty"));
        let body = error.to_body();
        assert_eq!(body.error.field.as_deref(), Some("title"));
        assert_eq!(body.error.message, "title: must not be empty");
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
