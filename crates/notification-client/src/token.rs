//! Tokens: where fresh ones come from, and when the one in hand runs out.
//!
//! The client never verifies a token (it has no key); it only reads the `exp`
//! claim so that it can ask for a fresh token before the server closes the
//! socket, and so that it never connects with a token it knows has expired.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// What a [`TokenProvider`] returns.
pub type TokenFuture = Pin<Box<dyn Future<Output = Option<String>> + Send>>;

/// Fetches a fresh token on demand (from the application's auth server, a
/// refresh token, a keychain…). `None` means "none available": the
/// subscription then yields [`Event::TokenRequired`](crate::Event::TokenRequired)
/// and waits for [`Subscription::set_token`](crate::Subscription::set_token).
#[derive(Clone)]
pub struct TokenProvider(Arc<dyn Fn() -> TokenFuture + Send + Sync>);

impl TokenProvider {
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<String>> + Send + 'static,
    {
        Self(Arc::new(move || Box::pin(fetch())))
    }

    /// Asks for a fresh token.
    pub async fn fresh_token(&self) -> Option<String> {
        (self.0)().await
    }
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider(..)")
    }
}

/// The `exp` claim (Unix seconds) of a JWT, read without checking the
/// signature. `None` for an opaque token or one without `exp`.
pub fn expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    // Issuers should not pad base64url, but some do.
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = &claims["exp"];
    // NumericDate may carry a fraction; whole seconds are enough here.
    exp.as_i64()
        .or_else(|| exp.as_f64().map(|secs| secs as i64))
}

/// Whether the token is known to have expired at `now` (Unix seconds).
pub fn is_expired(token: &str, now: i64) -> bool {
    expiry(token).is_some_and(|exp| exp <= now)
}

/// How long to wait before refreshing a token that expires at `expires_at`:
/// `margin` before expiry, or half-way through the remaining lifetime when the
/// token is shorter-lived than twice the margin, and never sooner than a
/// second from now (so a provider handing out short tokens cannot make the
/// client spin).
pub fn refresh_delay(expires_at: i64, now: i64, margin: Duration) -> Duration {
    let remaining = (expires_at - now).max(0) as f64;
    let lead = margin.as_secs_f64().min(remaining / 2.0);
    Duration::from_secs_f64((remaining - lead).max(1.0))
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.signature",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_exp_from_the_payload_without_a_key() {
        assert_eq!(
            expiry(&jwt(r#"{"sub":"u","exp":1704051600}"#)),
            Some(1_704_051_600)
        );
        assert_eq!(
            expiry(&jwt(r#"{"exp":1704051600.75}"#)),
            Some(1_704_051_600)
        );
    }

    #[test]
    fn opaque_or_exp_less_tokens_have_no_known_expiry() {
        assert_eq!(expiry("opaque-token"), None);
        assert_eq!(expiry(&jwt(r#"{"sub":"u"}"#)), None);
        assert_eq!(expiry("a.!!!.c"), None);
        assert_eq!(expiry(&jwt("not json")), None);
        assert!(!is_expired("opaque-token", i64::MAX));
    }

    #[test]
    fn a_token_is_expired_from_its_exp_on() {
        let token = jwt(r#"{"exp":100}"#);
        assert!(!is_expired(&token, 99));
        assert!(is_expired(&token, 100));
    }

    #[test]
    fn refreshes_a_margin_before_expiry_or_half_way_for_short_tokens() {
        let margin = Duration::from_secs(30);
        assert_eq!(refresh_delay(3600, 0, margin), Duration::from_secs(3570));
        assert_eq!(refresh_delay(40, 0, margin), Duration::from_secs(20));
        assert_eq!(refresh_delay(1, 0, margin), Duration::from_secs(1));
        assert_eq!(refresh_delay(0, 50, margin), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_provider_is_called_each_time() {
        let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = counter.clone();
        let provider = TokenProvider::new(move || {
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Some(format!("token-{n}")) }
        });
        assert_eq!(provider.fresh_token().await.as_deref(), Some("token-0"));
        assert_eq!(provider.fresh_token().await.as_deref(), Some("token-1"));
    }
}
