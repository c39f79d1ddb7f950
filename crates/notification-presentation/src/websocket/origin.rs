//! Which browser origins may open a WebSocket or call the REST API from a
//! page (`ALLOWED_ORIGINS`; the CORS middleware asks the same question).

use actix_web::http::header::{HeaderMap, HOST, ORIGIN};

/// `None` inside: any origin. Otherwise the exact origins (scheme, host and
/// port, compared case-insensitively, trailing `/` ignored), plus the
/// server's own origin, so the inbox page it serves always works.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Option<Vec<String>>);

impl AllowedOrigins {
    pub fn any() -> Self {
        Self(None)
    }

    pub fn only(origins: impl IntoIterator<Item = String>) -> Self {
        Self(Some(origins.into_iter().map(|o| normalize(&o)).collect()))
    }

    /// Whether a request with these headers may upgrade. A request without an
    /// `Origin` header is not from a browser page (browsers always send it on
    /// WebSocket upgrades), so cross-site WebSocket hijacking cannot apply and it
    /// is let through; its token still has to be valid.
    pub fn permits(&self, headers: &HeaderMap) -> bool {
        if self.0.is_none() {
            return true;
        }
        match headers.get(ORIGIN).map(|v| v.to_str()) {
            None => true,
            Some(Ok(origin)) => self.permits_origin(origin, headers),
            Some(Err(_)) => false,
        }
    }

    /// Whether a request carrying `Origin: origin` (and these headers) comes
    /// from an allowed page: a listed origin, or the server's own (the
    /// origin's host and port are the request's `Host`, as for the inbox
    /// page; the scheme is not compared since a TLS proxy may sit in front).
    pub fn permits_origin(&self, origin: &str, headers: &HeaderMap) -> bool {
        let Some(allowed) = &self.0 else {
            return true;
        };
        let origin = normalize(origin);
        allowed.contains(&origin) || is_same_origin(&origin, headers)
    }
}

/// Whether the normalised `origin`'s authority is the request's `Host`.
fn is_same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(authority) = origin.split_once("://").map(|(_, rest)| rest) else {
        return false;
    };
    headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| host.trim().eq_ignore_ascii_case(authority))
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn any_permits_every_origin() {
        assert!(AllowedOrigins::any().permits(&with_origin("https://evil.example")));
    }

    #[test]
    fn a_list_permits_only_its_origins_ignoring_case_and_trailing_slash() {
        let allowed = AllowedOrigins::only(["https://App.example/".to_owned()]);
        assert!(allowed.permits(&with_origin("https://app.example")));
        assert!(!allowed.permits(&with_origin("https://app.example:8443")));
        assert!(!allowed.permits(&with_origin("http://app.example")));
        assert!(!allowed.permits(&with_origin("null")));
    }

    #[test]
    fn the_servers_own_origin_passes_when_a_list_is_set() {
        let allowed = AllowedOrigins::only(["https://app.example".to_owned()]);
        let mut headers = with_origin("http://127.0.0.1:8080");
        headers.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(allowed.permits(&headers));
        headers.insert(HOST, HeaderValue::from_static("127.0.0.1:9090"));
        assert!(!allowed.permits(&headers));
        headers.insert(ORIGIN, HeaderValue::from_static("null"));
        headers.insert(HOST, HeaderValue::from_static("null"));
        assert!(!allowed.permits(&headers));
    }

    #[test]
    fn a_request_without_origin_is_not_a_browser_and_passes() {
        let allowed = AllowedOrigins::only(["https://app.example".to_owned()]);
        assert!(allowed.permits(&HeaderMap::new()));
    }
}
