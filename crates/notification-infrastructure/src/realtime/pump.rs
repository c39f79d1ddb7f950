//! [`run_connection`]: the loop that serves one live WebSocket.
//!
//! One `select!` over three sources: the connection's mailbox (pushes, hub
//! shutdown and resync), the client's frames, and one timer (pings, silence, token
//! expiry; see `Deadlines`). Every write is bounded by `write_timeout`.
//! A step that ends the connection returns the [`CloseReason`]; the loop then
//! unregisters from the hub first (so nothing more is queued for it), sends
//! the close frame, and records why it ended.
//!
//! Choices the contract leaves open:
//! - silence past `pong_timeout` closes with 1000 "pong timeout" (the server
//!   is not going away; 1001 is kept for shutdown);
//! - after the event bus lost events, 1012 "events may have been missed;
//!   resume with since", once what was queued before has been written;
//! - an `auth` message whose token is invalid is answered with an `error`
//!   message of code `unauthorized`, and the connection keeps its current
//!   token until that one expires;
//! - a client Close is answered with Close 1000; a transport protocol error
//!   with Close 1002; a write that times out or fails gets no close frame.

use std::sync::Arc;

use notification_application::realtime::{
    ClientSocket, InboundFrame, OutboundFrame, RealtimeSettings, SessionAuthenticator,
    SessionClaims, SharedText, SocketError,
};
use notification_domain::UserId;
use notification_protocol::{ErrorCode, ServerMessage};
use tokio::time::{sleep_until, timeout, Instant};

use crate::realtime::client_message::{read_client_message, ClientRequest};
use crate::realtime::close::CloseReason;
use crate::realtime::deadlines::{unix_now, Deadlines, Due};
use crate::realtime::hub::Registration;
use crate::realtime::mailbox::MailboxEvent;

/// The outcome of one step of the loop: `Err` ends the connection.
type Step = Result<(), CloseReason>;

/// Serves one connection until it ends, and returns why it ended. The
/// registration is dropped (the connection leaves the hub) before the close
/// frame is written, on every path.
///
/// `claims` are those the upgrade was authenticated with; if they name another
/// user than the registration, the connection closes at once with 1008.
pub async fn run_connection(
    socket: Box<dyn ClientSocket>,
    registration: Registration,
    claims: SessionClaims,
    settings: RealtimeSettings,
    authenticator: Arc<dyn SessionAuthenticator>,
) -> CloseReason {
    let _open = OpenConnection::count();
    let user_id = registration.user_id();
    let mut connection = Connection {
        socket,
        settings,
        authenticator,
        user_id,
        deadlines: Deadlines::start(
            settings.ping_interval,
            settings.pong_timeout,
            claims.expires_at,
        ),
    };
    tracing::debug!(%user_id, "websocket opened");
    let reason = if claims.user_id == user_id {
        connection.serve(&registration).await
    } else {
        CloseReason::SubjectMismatch
    };
    drop(registration);
    connection.close(reason).await;
    record_close(user_id, reason);
    reason
}

struct Connection {
    socket: Box<dyn ClientSocket>,
    settings: RealtimeSettings,
    authenticator: Arc<dyn SessionAuthenticator>,
    user_id: UserId,
    deadlines: Deadlines,
}

impl Connection {
    async fn serve(&mut self, registration: &Registration) -> CloseReason {
        let timer = sleep_until(self.deadlines.next());
        tokio::pin!(timer);
        loop {
            // The losing branches' futures are dropped before a handler runs,
            // so handlers may use the socket; `recv` and `next` are cancel-safe.
            let step = tokio::select! {
                event = registration.mailbox().next() => self.on_mail(event).await,
                frame = self.socket.recv() => self.on_frame(frame).await,
                () = &mut timer => {
                    let step = self.on_timer().await;
                    timer.as_mut().reset(self.deadlines.next());
                    step
                }
            };
            if let Err(reason) = step {
                return reason;
            }
            // Only an `auth` refresh can bring a deadline forward; other
            // changes move deadlines later and are found when the timer fires.
            if self.deadlines.next() < timer.deadline() {
                timer.as_mut().reset(self.deadlines.next());
            }
        }
    }

    async fn on_mail(&mut self, event: MailboxEvent) -> Step {
        match event {
            MailboxEvent::Message(text) => self.send(OutboundFrame::Text(text)).await,
            MailboxEvent::Overflowed => Err(CloseReason::SlowConsumer),
            MailboxEvent::ShutDown => Err(CloseReason::ShuttingDown),
            MailboxEvent::Resync => Err(CloseReason::Resync),
        }
    }

    async fn on_frame(&mut self, frame: Option<Result<InboundFrame, SocketError>>) -> Step {
        let frame = match frame {
            None | Some(Err(SocketError::Closed)) => return Err(CloseReason::StreamEnded),
            Some(Err(SocketError::Transport(error))) => {
                tracing::debug!(user_id = %self.user_id, error = %error, "websocket protocol error");
                return Err(CloseReason::ProtocolError);
            }
            Some(Ok(frame)) => frame,
        };
        self.deadlines.heard_from_client(Instant::now());
        match frame {
            InboundFrame::Text(text) => self.on_text(&text).await,
            InboundFrame::Binary => {
                self.reply(&ServerMessage::error(
                    ErrorCode::InvalidMessage,
                    "binary frames are not supported: send JSON text",
                ))
                .await
            }
            InboundFrame::Ping(payload) => self.send(OutboundFrame::Pong(payload)).await,
            InboundFrame::Pong => Ok(()),
            InboundFrame::Close => Err(CloseReason::ClientClosed),
            InboundFrame::TooLarge => Err(CloseReason::MessageTooBig),
        }
    }

    async fn on_text(&mut self, text: &str) -> Step {
        match read_client_message(text, &self.settings) {
            ClientRequest::Ping => {
                self.reply(&ServerMessage::Pong {
                    timestamp: unix_now(),
                })
                .await
            }
            ClientRequest::Auth { token } => self.on_auth(&token).await,
            ClientRequest::TooLarge => Err(CloseReason::MessageTooBig),
            ClientRequest::Invalid(why) => {
                self.reply(&ServerMessage::error(ErrorCode::InvalidMessage, why))
                    .await
            }
        }
    }

    async fn on_auth(&mut self, token: &str) -> Step {
        match self.authenticator.authenticate(token) {
            Ok(claims) if claims.user_id == self.user_id => {
                self.deadlines.token_refreshed(claims.expires_at);
                tracing::debug!(user_id = %self.user_id, expires_at = claims.expires_at, "websocket token refreshed");
                self.reply(&ServerMessage::AuthOk {
                    expires_at: claims.expires_at,
                })
                .await
            }
            Ok(claims) => {
                tracing::warn!(user_id = %self.user_id, other = %claims.user_id, "websocket auth for another subject");
                Err(CloseReason::SubjectMismatch)
            }
            Err(why) => {
                tracing::debug!(user_id = %self.user_id, reason = %why, "websocket token refresh rejected");
                self.reply(&ServerMessage::error(
                    ErrorCode::Unauthorized,
                    format!("token rejected ({why}); the current token stays in force"),
                ))
                .await
            }
        }
    }

    async fn on_timer(&mut self) -> Step {
        let now = Instant::now();
        match self.deadlines.due(now) {
            Due::TokenExpired => Err(CloseReason::TokenExpired),
            Due::Silence => Err(CloseReason::PongTimeout),
            Due::Ping => {
                self.deadlines.pinged(now);
                self.send(OutboundFrame::Ping).await
            }
            Due::Nothing => Ok(()),
        }
    }

    /// Sends a message built for this connection alone (pong, auth_ok, error).
    async fn reply(&mut self, message: &ServerMessage) -> Step {
        match serde_json::to_string(message) {
            Ok(text) => self.send(OutboundFrame::Text(SharedText::from(text))).await,
            Err(error) => {
                // Unreachable for these types; keep the connection.
                tracing::error!(error = %error, "websocket reply not serializable");
                Ok(())
            }
        }
    }

    async fn send(&mut self, frame: OutboundFrame) -> Step {
        match timeout(self.settings.write_timeout, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(CloseReason::WriteFailed),
            Err(_elapsed) => Err(CloseReason::WriteTimeout),
        }
    }

    /// Best effort: the client may already be gone.
    async fn close(&mut self, reason: CloseReason) {
        if let Some((code, text)) = reason.close_frame() {
            let frame = OutboundFrame::Close {
                code,
                reason: text.to_owned(),
            };
            let _ = timeout(self.settings.write_timeout, self.socket.send(frame)).await;
        }
    }
}

/// Counts a connection as open for as long as it lives (even if its task
/// panics or is dropped).
struct OpenConnection;

impl OpenConnection {
    fn count() -> Self {
        metrics::counter!("ws_connections_opened_total").increment(1);
        metrics::gauge!("ws_connections_open").increment(1.0);
        Self
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("ws_connections_open").decrement(1.0);
    }
}

fn record_close(user_id: UserId, reason: CloseReason) {
    metrics::counter!("ws_connections_closed_total", "reason" => reason.label()).increment(1);
    if reason == CloseReason::SlowConsumer {
        metrics::counter!("ws_slow_consumer_closes_total").increment(1);
        tracing::info!(%user_id, "websocket closed: slow consumer");
    } else {
        tracing::debug!(%user_id, reason = reason.label(), "websocket closed");
    }
}
