//! The reconnect loop: present a usable token, connect (resuming after the
//! last change yielded, `?since_seq=`), serve the socket, and decide what
//! comes next: a back-off wait, a fresh token, or a stop.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::events::{DisconnectReason, Event};
use super::session::Ended;
use super::socket::{self, Refusal, ResumePoint};
use super::StartFrom;
use crate::client::NotificationClient;
use crate::error::ClientError;

/// The subscriber dropped the subscription: stop at once.
#[derive(Debug)]
pub(super) struct Gone;

/// The state that outlives each connection.
pub(super) struct Driver {
    pub(super) client: NotificationClient,
    events: mpsc::Sender<Event>,
    /// The `seq` of the last change yielded (or of the starting point), the
    /// resume point; shared with the [`Subscription`](super::Subscription).
    pub(super) seq: watch::Sender<Option<u64>>,
    /// Where the first connection starts when no `seq` is known yet.
    from: StartFrom,
    /// Token replacements made through the client or the subscription.
    pub(super) tokens: watch::Receiver<String>,
    /// Consecutive failed attempts, for the back-off.
    failures: u32,
    /// Consecutive refusals of the token, so that the provider is asked once
    /// per refusal streak and a bad provider cannot make the client hammer.
    pub(super) rejections: u32,
}

impl Driver {
    pub(super) fn new(
        client: NotificationClient,
        events: mpsc::Sender<Event>,
        seq: watch::Sender<Option<u64>>,
        from: StartFrom,
    ) -> Self {
        Self {
            tokens: client.token_changes(),
            client,
            events,
            seq,
            from,
            failures: 0,
            rejections: 0,
        }
    }

    /// The last `seq` yielded, once known.
    pub(super) fn last_seq(&self) -> Option<u64> {
        *self.seq.borrow()
    }

    pub(super) async fn run(mut self) {
        // `Err(Gone)`: nobody is listening any more; nothing to report.
        let _ = self.run_until_stopped().await;
    }

    async fn run_until_stopped(&mut self) -> Result<(), Gone> {
        loop {
            // Token changes up to here are taken into account by this attempt.
            self.tokens.borrow_and_update();
            if self.last_seq().is_none() && self.from == StartFrom::Now {
                // "From now": where the user's changes stand before the socket
                // opens, so that nothing made in between is missed.
                match self.client.position().await {
                    Ok(position) => {
                        self.seq.send_replace(Some(position.seq));
                    }
                    Err(error) => {
                        self.after_rest_failure(error).await?;
                        continue;
                    }
                }
            }
            // Read after the REST calls above, which may have replaced it.
            let Some(token) = self.client.usable_token().await else {
                self.require_token().await?;
                continue;
            };
            let resume = match (self.last_seq(), self.from) {
                (Some(seq), _) => ResumePoint::Seq(seq),
                (None, StartFrom::Notification(id)) => ResumePoint::Notification(id),
                // Read above; only a failed read gets here, and it retried.
                (None, _) => ResumePoint::Seq(0),
            };
            let timeout = self.client.config().connect_timeout;
            let tls = self.client.websocket_tls();
            let url = self.client.websocket_url();
            match socket::open(url, &token, resume, timeout, tls).await {
                Ok(stream) => {
                    tracing::debug!(?resume, "notification socket open");
                    self.failures = 0;
                    match self.serve(stream, token).await? {
                        Ended::TokenExpired { token, reason } => {
                            self.token_refused(&token, Some(reason)).await?
                        }
                        Ended::Retry(reason) => self.retry_later(reason).await?,
                    }
                }
                Err(Refusal::Unauthorized) => self.token_refused(&token, None).await?,
                Err(Refusal::Fatal(reason)) => {
                    tracing::warn!(?reason, "notification socket refused for good");
                    self.emit(Event::Stopped { reason }).await?;
                    return Ok(());
                }
                Err(Refusal::Retry(reason)) => self.retry_later(reason).await?,
            }
        }
    }

    /// Yields an event; `Err(Gone)` when the subscription was dropped.
    pub(super) async fn emit(&self, event: Event) -> Result<(), Gone> {
        self.events.send(event).await.map_err(|_| Gone)
    }

    /// Resolves once the subscription was closed or dropped (owns a sender
    /// of its own, so it can be awaited beside borrows of the driver).
    pub(super) fn gone(&self) -> impl std::future::Future<Output = ()> + 'static {
        let events = self.events.clone();
        async move { events.closed().await }
    }

    /// Waits out the back-off after a failure, telling the application.
    async fn retry_later(&mut self, reason: DisconnectReason) -> Result<(), Gone> {
        self.failures = self.failures.saturating_add(1);
        let retry_in = self.client.config().reconnect.delay(self.failures);
        tracing::debug!(?reason, ?retry_in, "notification socket down");
        self.emit(Event::Disconnected { reason, retry_in }).await?;
        tokio::select! {
            () = tokio::time::sleep(retry_in) => Ok(()),
            () = self.gone() => Err(Gone),
        }
    }

    /// A REST read needed before connecting failed.
    async fn after_rest_failure(&mut self, error: ClientError) -> Result<(), Gone> {
        if error.status() == Some(401) {
            let token = self.client.token();
            self.token_refused(&token, None).await
        } else {
            self.retry_later(error.into()).await
        }
    }

    /// `rejected` was refused (401 on upgrade) or ran out (1008): ask the
    /// provider once per streak, else wait for the application.
    async fn token_refused(
        &mut self,
        rejected: &str,
        closed: Option<DisconnectReason>,
    ) -> Result<(), Gone> {
        self.rejections = self.rejections.saturating_add(1);
        if self.rejections == 1 && self.client.fresh_token_replacing(rejected).await.is_some() {
            if let Some(reason) = closed {
                self.emit(Event::Disconnected {
                    reason,
                    retry_in: Duration::ZERO,
                })
                .await?;
            }
            return Ok(());
        }
        self.require_token().await
    }

    /// Yields `TokenRequired` and waits, without any attempt, until a new
    /// token is set.
    async fn require_token(&mut self) -> Result<(), Gone> {
        // Only a token set after this point counts: one that the client's own
        // provider calls stored meanwhile was already tried.
        self.tokens.borrow_and_update();
        self.emit(Event::TokenRequired).await?;
        let gone = self.gone();
        tokio::select! {
            changed = self.tokens.changed() => changed.map_err(|_| Gone)?,
            () = gone => return Err(Gone),
        }
        self.rejections = 0;
        Ok(())
    }
}
