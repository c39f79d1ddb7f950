//! [`NotificationClient`]: the user's inbox over REST (contract §4).

use std::sync::Arc;

use notification_protocol::{
    ChangesPage, NotificationPage, NotificationResource, NotificationStatus, ReadAllResponse,
    UnreadCountResponse,
};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use uuid::Uuid;

use crate::config::ClientConfig;
use crate::error::ClientError;
use crate::subscription::{StartFrom, Subscription};
use crate::token::{is_expired, unix_now};

/// The TLS settings of a `wss://` connection (none in a build without TLS).
#[cfg(feature = "rustls")]
pub(crate) type WebSocketTls = Arc<rustls::ClientConfig>;
#[cfg(not(feature = "rustls"))]
pub(crate) type WebSocketTls = std::convert::Infallible;

/// The collection every inbox path is under (relative to `/api/v1/`).
const NOTIFICATIONS: &str = "notifications";

/// The query of `GET /api/v1/notifications`. Build with `default()` and the
/// `with_*` methods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// Only this status; `None` lists the inbox (archived ones left out).
    pub status: Option<NotificationStatus>,
    /// 1–100; the server's default (20) when `None`.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    /// Only notifications of `status`.
    pub fn with_status(mut self, status: NotificationStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Pages of `limit` (1–100).
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The page after `cursor` (a `next_cursor`).
    pub fn with_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

/// A client of one user's inbox. Cheap to clone; clones share the token, so
/// [`set_token`](Self::set_token) on one is seen by all and by their
/// subscriptions.
#[derive(Clone, Debug)]
pub struct NotificationClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// The base URL, ending in a slash so paths join under it.
    base: Url,
    /// `ws://…/ws/notifications`.
    websocket: Url,
    config: ClientConfig,
    token: watch::Sender<String>,
    /// The WebSocket's TLS settings when private CAs are trusted; `None`:
    /// tokio-tungstenite's own (the system's roots).
    websocket_tls: Option<WebSocketTls>,
}

impl NotificationClient {
    /// A client for `config.base_url`. Fails only on a base URL that is not
    /// `http(s)://…`; nothing is contacted yet.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let (base, websocket) = endpoints(&config.base_url)?;
        #[cfg(feature = "rustls")]
        let private_roots = config
            .ca_certificates_pem
            .as_deref()
            .map(crate::tls::private_roots)
            .transpose()?;
        #[cfg(not(feature = "rustls"))]
        if config.ca_certificates_pem.is_some() {
            return Err(ClientError::InvalidCaCertificates {
                reason: "this build has no TLS (the `rustls` feature is off)".to_owned(),
            });
        }
        // A caller's client brings its own pool, proxy and TLS roots; the
        // per-request timeout below applies to either.
        let http = match &config.http_client {
            Some(http) => http.clone(),
            None => {
                #[allow(unused_mut)] // without TLS there is nothing to add
                let mut builder = reqwest::Client::builder();
                #[cfg(feature = "rustls")]
                for root in private_roots.iter().flat_map(|roots| roots.http.iter()) {
                    builder = builder.add_root_certificate(root.clone());
                }
                builder.build()?
            }
        };
        let (token, _) = watch::channel(config.token.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                websocket,
                config,
                token,
                #[cfg(feature = "rustls")]
                websocket_tls: private_roots.map(|roots| roots.websocket),
                #[cfg(not(feature = "rustls"))]
                websocket_tls: None,
            }),
        })
    }

    /// The configuration this client was built with (its `token` is the
    /// initial one; see [`token`](Self::token) for the current one).
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The token in use now.
    pub fn token(&self) -> String {
        self.inner.token.borrow().clone()
    }

    /// Replaces the token for every later call, and for open subscriptions:
    /// a connected one sends it in-band (`{"type":"auth"}`), one waiting
    /// after [`Event::TokenRequired`](crate::Event::TokenRequired) reconnects
    /// with it.
    pub fn set_token(&self, token: impl Into<String>) {
        self.inner.token.send_replace(token.into());
    }

    /// `GET /api/v1/notifications`: one page, newest first.
    pub async fn list(&self, params: &ListParams) -> Result<NotificationPage, ClientError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(status) = params.status {
            query.push(("status", status.as_str().to_owned()));
        }
        if let Some(limit) = params.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &params.cursor {
            query.push(("cursor", cursor.clone()));
        }
        self.call(Method::GET, NOTIFICATIONS, &query).await
    }

    /// `GET /api/v1/notifications/{id}`.
    pub async fn get(&self, id: Uuid) -> Result<NotificationResource, ClientError> {
        self.call(Method::GET, &format!("{NOTIFICATIONS}/{id}"), &[])
            .await
    }

    /// `GET /api/v1/notifications/unread-count`.
    pub async fn unread_count(&self) -> Result<u64, ClientError> {
        Ok(self.position().await?.unread_count)
    }

    /// `GET /api/v1/notifications/unread-count`, whole: the unread count and
    /// the `seq` of the user's latest change, read together.
    pub async fn position(&self) -> Result<UnreadCountResponse, ClientError> {
        self.call(Method::GET, &format!("{NOTIFICATIONS}/unread-count"), &[])
            .await
    }

    /// `GET /api/v1/changes`: the user's changes after `after_seq`, in order,
    /// as the messages a socket carried (at most `limit`, 1–500; the server's
    /// default when `None`). A 410 ([`ClientError::status`] `Some(410)`, code
    /// `resync_required`) means they are no longer kept: reload.
    pub async fn changes(
        &self,
        after_seq: u64,
        limit: Option<u32>,
    ) -> Result<ChangesPage, ClientError> {
        let mut query = vec![("after_seq", after_seq.to_string())];
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        self.call(Method::GET, "changes", &query).await
    }

    /// `POST /api/v1/notifications/{id}/read`: the stored state.
    pub async fn mark_read(&self, id: Uuid) -> Result<NotificationResource, ClientError> {
        self.call(Method::POST, &format!("{NOTIFICATIONS}/{id}/read"), &[])
            .await
    }

    /// `POST /api/v1/notifications/{id}/unread`: the stored state.
    pub async fn mark_unread(&self, id: Uuid) -> Result<NotificationResource, ClientError> {
        self.call(Method::POST, &format!("{NOTIFICATIONS}/{id}/unread"), &[])
            .await
    }

    /// `POST /api/v1/notifications/{id}/archive`: the stored state.
    pub async fn archive(&self, id: Uuid) -> Result<NotificationResource, ClientError> {
        self.call(Method::POST, &format!("{NOTIFICATIONS}/{id}/archive"), &[])
            .await
    }

    /// `POST /api/v1/notifications/read-all`: how many were marked read.
    pub async fn read_all(&self) -> Result<u64, ClientError> {
        let body: ReadAllResponse = self
            .call(Method::POST, &format!("{NOTIFICATIONS}/read-all"), &[])
            .await?;
        Ok(body.updated)
    }

    /// `DELETE /api/v1/notifications/{id}`.
    pub async fn delete(&self, id: Uuid) -> Result<(), ClientError> {
        self.send(Method::DELETE, &format!("{NOTIFICATIONS}/{id}"), &[])
            .await?;
        Ok(())
    }

    /// Opens a subscription to the user's changes from now on: every change
    /// made after this call is yielded, nothing older. See [`Subscription`]
    /// for what it guarantees. Needs a Tokio runtime.
    pub fn subscribe(&self) -> Subscription {
        Subscription::start(self.clone(), StartFrom::Now)
    }

    /// Opens a subscription that first yields every change after `seq` (the
    /// `seq` of the last change the application applied, or of the list it
    /// loaded, kept across restarts), in order, then live ones.
    pub fn subscribe_after_seq(&self, seq: u64) -> Subscription {
        Subscription::start(self.clone(), StartFrom::Seq(seq))
    }

    /// Opens a subscription that first yields every change made after the
    /// notification `since` was created, then live ones (for applications
    /// that kept an id rather than a `seq`).
    pub fn subscribe_after(&self, since: Uuid) -> Subscription {
        Subscription::start(self.clone(), StartFrom::Notification(since))
    }

    pub(crate) fn websocket_url(&self) -> &Url {
        &self.inner.websocket
    }

    /// The WebSocket's TLS settings, when private CAs are trusted.
    #[cfg_attr(not(feature = "rustls"), allow(clippy::clone_on_copy))]
    pub(crate) fn websocket_tls(&self) -> Option<WebSocketTls> {
        self.inner.websocket_tls.clone()
    }

    pub(crate) fn token_changes(&self) -> watch::Receiver<String> {
        self.inner.token.subscribe()
    }

    /// A token worth presenting: the current one, or a fresh one from the
    /// provider when the current one is known to have expired.
    pub(crate) async fn usable_token(&self) -> Option<String> {
        let current = self.token();
        if !is_expired(&current, unix_now()) {
            return Some(current);
        }
        let fresh = self.fresh_token_replacing(&current).await?;
        Some(fresh)
    }

    /// Asks the provider for a token other than `rejected` that has not
    /// expired; stores and returns it. `None` without a provider, or when it
    /// has nothing better.
    pub(crate) async fn fresh_token_replacing(&self, rejected: &str) -> Option<String> {
        let provider = self.inner.config.token_provider.as_ref()?;
        let fresh = provider.fresh_token().await?;
        if fresh == rejected || is_expired(&fresh, unix_now()) {
            return None;
        }
        self.set_token(fresh.clone());
        Some(fresh)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        Ok(self.send(method, path, query).await?.json().await?)
    }

    /// Sends one request to `/api/v1/{path}`; a non-success answer becomes
    /// the error it carries.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<reqwest::Response, ClientError> {
        let response = self
            .exchange(method, path, |request| request.query(query))
            .await?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_of(response).await)
    }

    /// Sends one request to `/api/v1/{path}`, shaped by `build` (query, body,
    /// headers), and returns whatever the server answered; on 401 asks the
    /// provider (if any) for a fresh token and tries once more.
    pub(crate) async fn exchange(
        &self,
        method: Method,
        path: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let url = self
            .inner
            .base
            .join(&format!("api/v1/{path}"))
            .map_err(|error| ClientError::InvalidBaseUrl {
                url: self.inner.config.base_url.clone(),
                reason: error.to_string(),
            })?;
        let mut token = self.usable_token().await.unwrap_or_else(|| self.token());
        let mut retried = false;
        loop {
            let request = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .timeout(self.inner.config.request_timeout)
                .bearer_auth(&token);
            let response = build(request).send().await?;
            if response.status() == StatusCode::UNAUTHORIZED && !retried {
                if let Some(fresh) = self.fresh_token_replacing(&token).await {
                    token = fresh;
                    retried = true;
                    continue;
                }
            }
            return Ok(response);
        }
    }
}

/// The error a non-success `response` carries.
pub(crate) async fn error_of(response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    ClientError::from_response(status, &body)
}

/// The base URL (ending in `/`) and `ws(s)://…/ws/notifications` under it
/// (`base_url` may carry a path prefix, for a server behind a reverse proxy).
fn endpoints(base_url: &str) -> Result<(Url, Url), ClientError> {
    let invalid = |reason: String| ClientError::InvalidBaseUrl {
        url: base_url.to_owned(),
        reason,
    };
    let mut base = Url::parse(base_url).map_err(|error| invalid(error.to_string()))?;
    let ws_scheme = match base.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => return Err(invalid(format!("scheme {other:?} is not http or https"))),
    };
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.set_query(None);
    let mut websocket = base
        .join("ws/notifications")
        .map_err(|error| invalid(error.to_string()))?;
    websocket
        .set_scheme(ws_scheme)
        .map_err(|()| invalid("cannot derive the WebSocket URL".to_owned()))?;
    Ok((base, websocket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_base_url_and_its_scheme() {
        let (base, ws) = endpoints("http://127.0.0.1:8080").unwrap();
        assert_eq!(base.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(ws.as_str(), "ws://127.0.0.1:8080/ws/notifications");
        let (base, ws) = endpoints("https://example.com/inbox?x=1").unwrap();
        assert_eq!(base.as_str(), "https://example.com/inbox/");
        assert_eq!(ws.as_str(), "wss://example.com/inbox/ws/notifications");
        assert_eq!(
            base.join("api/v1/notifications/unread-count")
                .unwrap()
                .as_str(),
            "https://example.com/inbox/api/v1/notifications/unread-count"
        );
    }

    #[test]
    fn a_base_url_that_is_not_http_is_refused() {
        assert!(matches!(
            NotificationClient::new(ClientConfig::new("ftp://host", "t")),
            Err(ClientError::InvalidBaseUrl { .. })
        ));
        assert!(matches!(
            NotificationClient::new(ClientConfig::new("not a url", "t")),
            Err(ClientError::InvalidBaseUrl { .. })
        ));
    }
}
