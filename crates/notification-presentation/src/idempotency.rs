//! The `Idempotency-Key` header of `POST /api/v1/notifications` and the
//! `Idempotent-Replayed` header of its replays.
//!
//! The key's rules are the domain's [`IdempotencyKey`]; this module reads it
//! from the request and names errors after the header. The create handler
//! passes it on to `NotificationService::create`, which decides what a
//! repeat means.

use actix_web::http::header::HeaderMap;
use notification_domain::ValidationError;

pub use notification_domain::IdempotencyKey;

/// Name of the request header carrying the key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Name of the response header set (to `true`) on a replayed response.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// The request's key, if it has one. A malformed key is a validation error
/// whose `field` is the header's name.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ValidationError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let raw = value.to_str().map_err(|_| {
        ValidationError::new(IDEMPOTENCY_KEY_HEADER, "must be visible ASCII characters")
    })?;
    IdempotencyKey::parse(raw)
        .map(Some)
        .map_err(|error| ValidationError::new(IDEMPOTENCY_KEY_HEADER, error.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers_with_key(value: HeaderValue) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("idempotency-key"), value);
        headers
    }

    #[test]
    fn no_header_is_no_key() {
        assert_eq!(idempotency_key(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn the_header_is_read_whatever_its_case() {
        let headers = headers_with_key(HeaderValue::from_static("order-42"));
        assert_eq!(
            idempotency_key(&headers),
            Ok(Some(IdempotencyKey::parse("order-42").unwrap()))
        );
    }

    #[test]
    fn a_malformed_key_names_the_header_as_its_field() {
        for value in [
            HeaderValue::from_static(""),
            HeaderValue::from_static("has space"),
            HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        ] {
            let error = idempotency_key(&headers_with_key(value)).unwrap_err();
            assert_eq!(error.field, IDEMPOTENCY_KEY_HEADER);
        }
    }
}
