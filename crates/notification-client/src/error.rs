//! What a client call can fail with.

use notification_protocol::{ErrorCode, ErrorResponse};

/// A failed REST call (or a subscription that cannot go on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `ClientConfig::base_url` is not an `http://` or `https://` URL.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    /// `ClientConfig::ca_certificates_pem` holds no usable certificate (or
    /// the crate was built without its `rustls` feature).
    #[error("invalid CA certificates: {reason}")]
    InvalidCaCertificates { reason: String },
    /// The server answered with the contract's error body.
    #[error("{status} {code:?}: {message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        /// The offending request field, for `validation_failed`.
        field: Option<String>,
    },
    /// The server answered with a status this client did not expect and a
    /// body that is not the contract's error shape (a proxy's error page…).
    #[error("unexpected response {status}: {body}")]
    UnexpectedResponse { status: u16, body: String },
    /// The request did not complete: connection refused, timeout, a body
    /// that is not the expected JSON.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
}

impl ClientError {
    /// The error for a non-success `status` with `body`.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorResponse>(body) {
            Ok(ErrorResponse { error }) => Self::Api {
                status,
                code: error.code,
                message: error.message,
                field: error.field,
            },
            Err(_) => Self::UnexpectedResponse {
                status,
                body: String::from_utf8_lossy(body).chars().take(512).collect(),
            },
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::UnexpectedResponse { status, .. } => Some(*status),
            Self::Transport(error) => error.status().map(|s| s.as_u16()),
            Self::InvalidBaseUrl { .. } | Self::InvalidCaCertificates { .. } => None,
        }
    }

    /// The contract's error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_error_body_becomes_a_typed_api_error() {
        let body = br#"{"error":{"code":"validation_failed","message":"limit: 1 to 100","field":"limit"}}"#;
        match ClientError::from_response(422, body) {
            ClientError::Api {
                status,
                code,
                message,
                field,
            } => {
                assert_eq!(status, 422);
                assert_eq!(code, ErrorCode::ValidationFailed);
                assert_eq!(message, "limit: 1 to 100");
                assert_eq!(field.as_deref(), Some("limit"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn any_other_body_is_kept_for_the_message() {
        let error = ClientError::from_response(502, b"<html>Bad Gateway</html>");
        assert_eq!(error.status(), Some(502));
        assert_eq!(error.code(), None);
        assert!(error.to_string().contains("Bad Gateway"));
    }
}
