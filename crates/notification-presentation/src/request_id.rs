//! Request ids: every request gets one, every log line written while it is
//! served carries it, and the response names it, so a client's report
//! ("request 0192… failed") leads straight to the server's lines.
//!
//! A caller's (or a proxy's) `X-Request-Id` is kept when it is sane — 1 to
//! [`MAX_LEN`] characters of `A–Z a–z 0–9 - _ . :` — so one id follows a
//! request through several services; anything else (too long, spaces,
//! control characters that could forge log lines) is replaced by a new
//! UUIDv7, never echoed.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument as _;
use uuid::Uuid;

/// The header read from requests and written on every response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id accepted from a caller.
pub const MAX_LEN: usize = 128;

/// The caller's id when sane, else a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_sane(id))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned)
}

fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Middleware (`actix_web::middleware::from_fn(request_id::tag)`), outermost:
/// runs the rest of the request inside a `request{request_id=…}` span and
/// puts the id on the response. Handlers' errors are responses by then (actix
/// turns them into responses at the handler), so they carry it too; only a
/// failure inside a middleware, which actix answers later, goes without.
pub async fn tag(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(req.headers());
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.call(req).instrument(span).await?;
    // A sane ASCII string or a UUID: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_sane_caller_id_is_kept() {
        for id in ["abc", "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f", "lb:1.2_x"] {
            assert_eq!(request_id(&with_header(id)), id);
        }
        assert_eq!(
            request_id(&with_header(&"a".repeat(MAX_LEN))).len(),
            MAX_LEN
        );
    }

    #[test]
    fn a_missing_or_insane_id_is_replaced_by_a_new_uuid() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for headers in [
            HeaderMap::new(),
            with_header(""),
            with_header("has space"),
            with_header("x\"y"),
            with_header(&too_long),
        ] {
            let id = request_id(&headers);
            assert!(Uuid::parse_str(&id).is_ok(), "{id}");
        }
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }
}
