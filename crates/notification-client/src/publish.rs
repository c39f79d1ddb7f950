//! Publishing: `POST /api/v1/notifications` and `…/batch` with a publisher
//! token, made safe to retry by an `Idempotency-Key` that every attempt
//! repeats.

use std::time::Duration;

use notification_protocol::{BatchResource, CreateNotificationRequest, NotificationResource};
use reqwest::header::RETRY_AFTER;
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::client::{error_of, NotificationClient};
use crate::error::ClientError;

/// The header that makes a create idempotent (contract §4).
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

impl NotificationClient {
    /// `POST /api/v1/notifications` (the client's token must be a publisher
    /// token): stores `draft` and notifies its user. An `Idempotency-Key`
    /// (a UUIDv7) is generated for the call, so the retries of a failed or
    /// timed-out attempt can never store it twice; see
    /// [`create_with_key`](Self::create_with_key).
    pub async fn create(
        &self,
        draft: &CreateNotificationRequest,
    ) -> Result<NotificationResource, ClientError> {
        self.create_with_key(draft, &Uuid::now_v7().to_string())
            .await
    }

    /// [`create`](Self::create) with the caller's `Idempotency-Key` (keep
    /// one per event to publish, e.g. in an outbox row, to be safe across
    /// restarts of the publisher too). A repeat with the same key within
    /// 24 h returns the first result and notifies nobody again.
    ///
    /// Retried, with the same key, after a connection error or a timeout and
    /// after a 5xx answer, at most `publish_attempts` times in all, waiting
    /// `publish_retry` between (or the server's `Retry-After`, capped at
    /// `publish_retry.max`). Any other error is returned at once.
    pub async fn create_with_key(
        &self,
        draft: &CreateNotificationRequest,
        key: &str,
    ) -> Result<NotificationResource, ClientError> {
        self.publish(NOTIFICATIONS, draft, key).await
    }

    /// `POST /api/v1/notifications/batch` (a publisher token): stores every
    /// draft (1–[`MAX_BATCH_ITEMS`](notification_protocol::MAX_BATCH_ITEMS)),
    /// all or nothing, and notifies each one's user; returns the created
    /// notifications in the order of `drafts`. An invalid draft fails the
    /// whole batch with a 422 whose `field` names it (`notifications[3].title`).
    /// An `Idempotency-Key` (a UUIDv7) is generated for the call and covers
    /// the whole batch, so retries never store it twice; see
    /// [`create_batch_with_key`](Self::create_batch_with_key).
    pub async fn create_batch(
        &self,
        drafts: &[CreateNotificationRequest],
    ) -> Result<Vec<NotificationResource>, ClientError> {
        self.create_batch_with_key(drafts, &Uuid::now_v7().to_string())
            .await
    }

    /// [`create_batch`](Self::create_batch) with the caller's key, retried
    /// like [`create_with_key`](Self::create_with_key). A repeat of the same
    /// batch with the same key within 24 h returns the first list and
    /// notifies nobody again; the key with another batch is a 422
    /// `idempotency_key_reused`.
    pub async fn create_batch_with_key(
        &self,
        drafts: &[CreateNotificationRequest],
        key: &str,
    ) -> Result<Vec<NotificationResource>, ClientError> {
        let body = BatchBody {
            notifications: drafts,
        };
        let created: BatchResource = self.publish(BATCH, &body, key).await?;
        Ok(created.notifications)
    }

    /// Posts `body` to `path` under `key`, retrying as `create_with_key`
    /// says; returns the answer's JSON.
    async fn publish<B, R>(&self, path: &str, body: &B, key: &str) -> Result<R, ClientError>
    where
        B: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        let config = self.config();
        let attempts = config.publish_attempts.max(1);
        let mut failures = 0;
        loop {
            let outcome = self.publish_once(path, body, key).await;
            failures += 1;
            let wait = match &outcome {
                Ok(response) if response.status().is_success() => None,
                Ok(response) => retryable_status(response).then(|| {
                    retry_after(response).unwrap_or_else(|| config.publish_retry.delay(failures))
                }),
                Err(ClientError::Transport(error)) if worth_retrying(error) => {
                    Some(config.publish_retry.delay(failures))
                }
                Err(_) => None,
            };
            match (outcome, wait) {
                (outcome, Some(wait)) if failures < attempts => {
                    tracing::debug!(
                        failures,
                        ?wait,
                        "publish failed; retrying with the same key"
                    );
                    drop(outcome);
                    tokio::time::sleep(wait.min(config.publish_retry.max)).await;
                }
                (Ok(response), _) if response.status().is_success() => {
                    return Ok(response.json().await?)
                }
                (Ok(response), _) => return Err(error_of(response).await),
                (Err(error), _) => return Err(error),
            }
        }
    }

    async fn publish_once<B>(
        &self,
        path: &str,
        body: &B,
        key: &str,
    ) -> Result<Response, ClientError>
    where
        B: Serialize + ?Sized + Sync,
    {
        self.exchange(Method::POST, path, |request| {
            request.header(IDEMPOTENCY_KEY, key).json(body)
        })
        .await
    }
}

/// The single create's path (relative to `/api/v1/`).
const NOTIFICATIONS: &str = "notifications";

/// The batch create's path (relative to `/api/v1/`).
const BATCH: &str = "notifications/batch";

/// The body of a batch, borrowing the caller's drafts.
#[derive(Serialize)]
struct BatchBody<'a> {
    notifications: &'a [CreateNotificationRequest],
}

/// A failure the same request may not meet again: the server's (5xx, which
/// includes a 503 while it starts or sheds load). A 4xx would only repeat.
fn retryable_status(response: &Response) -> bool {
    response.status().is_server_error()
}

/// A request that did not get an answer: refused, dropped or timed out. The
/// server may or may not have stored it; the repeated key makes that moot.
fn worth_retrying(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_timeout() || error.is_request()
}

/// `Retry-After` in seconds (the HTTP-date form is not used by this server).
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    seconds.trim().parse().ok().map(Duration::from_secs)
}
