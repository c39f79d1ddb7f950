//! Which browser origins may open a WebSocket (`ALLOWED_ORIGINS`).

use actix_web::http::header::{HeaderMap, ORIGIN};

/// `None` inside: any origin. Otherwise the exact origins (scheme, host and
/// port, compared case-insensitively, trailing `/` ignored).
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
        let Some(allowed) = &self.0 else {
            return true;
        };
        match headers.get(ORIGIN).map(|v| v.to_str()) {
            None => true,
            Some(Ok(origin)) => allowed.contains(&normalize(origin)),
            Some(Err(_)) => false,
        }
    }
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
    fn a_request_without_origin_is_not_a_browser_and_passes() {
        let allowed = AllowedOrigins::only(["https://app.example".to_owned()]);
        assert!(allowed.permits(&HeaderMap::new()));
    }
}
