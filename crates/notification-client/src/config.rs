//! How to reach the server and how to behave when it goes away.

use std::fmt;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::token::TokenProvider;

/// Everything a [`NotificationClient`](crate::NotificationClient) needs.
/// Build with [`ClientConfig::new`] and adjust the public fields or use the
/// `with_*` methods.
#[derive(Clone)]
pub struct ClientConfig {
    /// `http://host:port` or `https://…` (TLS needs a reqwest/tungstenite TLS
    /// feature in the final binary). The WebSocket URL is derived from it.
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
}

impl ClientConfig {
    /// Defaults: back-off 0.5 s doubling to 30 s with 30 % jitter, refresh
    /// 30 s before expiry, 1024 remembered ids, 10 s timeouts.
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
        }
    }

    /// Sets the source of fresh tokens.
    pub fn with_token_provider(mut self, provider: TokenProvider) -> Self {
        self.token_provider = Some(provider);
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
