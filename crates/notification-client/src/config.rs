//! How to reach the server and how to behave when it goes away.

use std::fmt;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::token::TokenProvider;

/// Everything a [`NotificationClient`](crate::NotificationClient) needs.
/// Build with [`ClientConfig::new`] and adjust the public fields or use the
/// `with_*` methods (it is `#[non_exhaustive]`: later releases may add
/// fields with defaults, so it cannot be written as a struct literal).
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `http://host:port` or `https://…` (TLS: the `rustls` feature, on by
    /// default). The WebSocket URL (`ws://`/`wss://`) is derived from it.
    pub base_url: String,
    /// The user's JWT, sent as `Authorization: Bearer` on every call and on
    /// the WebSocket upgrade (never in a URL).
    pub token: String,
    /// Asked for a fresh token before the current one expires, and when the
    /// server refuses it. Without one the subscription yields
    /// [`Event::TokenRequired`](crate::Event::TokenRequired) and waits.
    pub token_provider: Option<TokenProvider>,
    /// Waits between reconnect attempts.
    pub reconnect: Backoff,
    /// How long before the token's `exp` a fresh one is asked for (with a
    /// provider) and sent in-band.
    pub refresh_before_expiry: Duration,
    /// Limit of one REST call.
    pub request_timeout: Duration,
    /// Limit of one WebSocket connection attempt (TCP + upgrade).
    pub connect_timeout: Duration,
    /// Events buffered for a subscriber that reads slowly; when full the
    /// subscription stops reading the socket until the subscriber catches up.
    pub event_buffer: usize,
    /// The caller's own HTTP client (its pool, proxy, TLS roots, default
    /// headers); `None` builds a private one. `request_timeout` applies to
    /// each request either way.
    pub http_client: Option<reqwest::Client>,
    /// PEM certificates of private CAs (one or more, concatenated) trusted
    /// beside the system's roots for `https://` and `wss://`: a server whose
    /// certificate your own CA signed. Applies to the private HTTP client
    /// and to the WebSocket; a caller's `http_client` keeps its own roots.
    /// Needs the `rustls` feature (on by default).
    pub ca_certificates_pem: Option<Vec<u8>>,
    /// Waits between the attempts of a publish (`create`) that failed in a
    /// way a retry can fix; a `Retry-After` answer is honoured up to `max`.
    pub publish_retry: Backoff,
    /// Attempts of one publish in all (≥ 1; the first one included).
    pub publish_attempts: u32,
}

impl ClientConfig {
    /// Defaults: back-off 0.5 s doubling to 30 s with 30 % jitter, refresh
    /// 30 s before expiry, 10 s timeouts, a publish tried 4 times (0.2 s
    /// doubling to 5 s between), a private HTTP client.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            token: token.into(),
            token_provider: None,
            reconnect: Backoff::default(),
            refresh_before_expiry: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            event_buffer: 64,
            http_client: None,
            ca_certificates_pem: None,
            publish_retry: Backoff::new(Duration::from_millis(200), Duration::from_secs(5)),
            publish_attempts: 4,
        }
    }

    /// Sets the source of fresh tokens.
    pub fn with_token_provider(mut self, provider: TokenProvider) -> Self {
        self.token_provider = Some(provider);
        self
    }

    /// Uses the caller's HTTP client for every REST call.
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Trusts the private CAs of `pem` (PEM certificates) beside the system's
    /// roots, for `https://` and `wss://`.
    pub fn with_ca_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certificates_pem = Some(pem.into());
        self
    }

    /// Sets the limit of one REST call.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how a publish is retried: the waits and the attempts in all.
    pub fn with_publish_retry(mut self, backoff: Backoff, attempts: u32) -> Self {
        self.publish_retry = backoff;
        self.publish_attempts = attempts.max(1);
        self
    }

    /// Sets the reconnect back-off.
    pub fn with_reconnect(mut self, backoff: Backoff) -> Self {
        self.reconnect = backoff;
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential: never print it.
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("token_provider", &self.token_provider)
            .field("reconnect", &self.reconnect)
            .field("refresh_before_expiry", &self.refresh_before_expiry)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("event_buffer", &self.event_buffer)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "<caller's>"),
            )
            .field(
                "ca_certificates_pem",
                &self.ca_certificates_pem.as_ref().map(Vec::len),
            )
            .field("publish_retry", &self.publish_retry)
            .field("publish_attempts", &self.publish_attempts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let config = ClientConfig::new("http://127.0.0.1:8080", "secret.jwt.value");
        let printed = format!("{config:?}");
        assert!(!printed.contains("secret.jwt.value"));
        assert!(printed.contains("<redacted>"));
    }
}
