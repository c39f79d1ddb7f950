//! The `Idempotency-Key` header of `POST /api/v1/notifications`.
//!
//! Only read and checked for now: the create handler passes it to
//! [`create_once`](crate::routes::create::create_once), the one place where
//! "a repeat with the same key within 24 h returns the first result" will be
//! implemented.

use actix_web::http::header::HeaderMap;
use notification_domain::ValidationError;

/// Name of the header.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Longest key accepted, in bytes (a UUID is 36; leave room for client schemes).
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 255;

/// A client-chosen key identifying one logical create request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1–255 visible ASCII characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > IDEMPOTENCY_KEY_MAX_LEN {
            return Err(ValidationError::new(
                IDEMPOTENCY_KEY_HEADER,
                format!("must be 1–{IDEMPOTENCY_KEY_MAX_LEN} characters"),
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new(
                IDEMPOTENCY_KEY_HEADER,
                "must be visible ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The header's key, if the request has one.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ValidationError> {
        headers
            .get(IDEMPOTENCY_KEY_HEADER)
            .map(|value| {
                value
                    .to_str()
                    .map_err(|_| {
                        ValidationError::new(
                            IDEMPOTENCY_KEY_HEADER,
                            "must be visible ASCII characters",
                        )
                    })
                    .and_then(Self::parse)
            })
            .transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_a_valid_key() {
        let key = IdempotencyKey::parse("0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f").unwrap();
        assert_eq!(key.as_str(), "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f");
    }

    #[test]
    fn empty_long_or_spaced_keys_are_rejected_with_the_header_as_field() {
        for raw in ["", "has space", &"k".repeat(256)] {
            let err = IdempotencyKey::parse(raw).unwrap_err();
            assert_eq!(err.field, IDEMPOTENCY_KEY_HEADER);
        }
    }
}
