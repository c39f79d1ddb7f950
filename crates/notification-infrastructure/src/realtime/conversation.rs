//! [`converse`]: the whole conversation of one WebSocket, replays from the
//! change log included.
//!
//! One `select!` over four sources: the connection's mailbox (pushes, hub
//! shutdown and resync), the client's frames, the replay while it runs, and
//! one timer (pings, silence, token expiry; see `Deadlines`). The replay is a
//! state of the conversation, not a phase before it: shutdown, overflow,
//! pings and client messages are handled while it runs; pushed messages wait
//! in the mailbox until it ends, so they follow it in order.
//!
//! The connection knows the last `seq` it sent: a pushed change at or below
//! it is dropped (it was replayed), one that skips ahead starts a replay of
//! what lies between from the log (the pushed one is read with it).
//! Every write goes through `outbound` (one encoding, one bounded write).
//! Handlers decide without waiting and return the frame to write; the loop
//! writes it. Every idle socket holds its conversation's future, whose size
//! is that of its largest state: one write in the loop keeps it small, where
//! an `await` in each handler would add each handler's state to it. A
//! step that ends the connection returns the [`CloseReason`]; the
//! conversation then leaves the hub (so nothing more is queued for it), sends
//! the close frame, and only then stops counting as live (so a shutdown's
//! `Hub::drained` waits for every 1001 frame).
//!
//! Choices the contract leaves open:
//! - silence past `pong_timeout` closes with 1000 "pong timeout" (the server
//!   is not going away; 1001 is kept for shutdown);
//! - after the event bus lost events and the change log could not be read,
//!   1012 "events may have been missed; resume with since", once what was
//!   queued before has been written;
//! - an `auth` message whose token is invalid is answered with an `error`
//!   message of code `unauthorized`, and the connection keeps its current
//!   token until that one expires; more than `max_auth_per_minute` `auth`
//!   messages in a minute are answered with `rate_limited`, unchecked;
//! - storage failing during a replay closes with 1011;
//! - a client Close is answered with Close 1000; a transport protocol error
//!   with Close 1002; a write that times out or fails gets no close frame.

use std::sync::Arc;

use notification_application::realtime::{
    ClientSocket, InboundFrame, OutboundFrame, RealtimeSettings, SessionAuthenticator,
    SessionClaims, SocketError,
};
use notification_domain::UserId;
use notification_protocol::{ErrorCode, ServerMessage, MAX_BATCH_ITEMS};
use tokio::time::{sleep_until, Instant};

use crate::realtime::auth_budget::AuthBudget;
use crate::realtime::client_message::{read_client_message, ClientRequest};
use crate::realtime::close::CloseReason;
use crate::realtime::deadlines::{unix_now, Deadlines, Due};
use crate::realtime::healer::Healer;
use crate::realtime::hub::Registration;
use crate::realtime::mailbox::{Change, Mailbox, MailboxEvent};
use crate::realtime::outbound;
use crate::realtime::replay::{Replay, ReplayStep, Start};

/// The outcome of one step of the conversation: the frame to write, if any;
/// `Err` ends it. Steps decide without waiting; the loop does the one write.
type Step = Result<Option<OutboundFrame>, CloseReason>;

/// An admitted connection, ready for its socket.
pub(crate) struct Conversation {
    pub(crate) registration: Registration,
    /// The claims the upgrade was authenticated with; if they name another
    /// user than the registration, the connection closes at once with 1008.
    pub(crate) claims: SessionClaims,
    pub(crate) settings: RealtimeSettings,
    /// Checks the tokens of in-band `auth` refreshes.
    pub(crate) authenticator: Arc<dyn SessionAuthenticator>,
    /// Reads the change log for replays.
    pub(crate) healer: Healer,
    /// Where the connection starts: replayed first, while the rest of the
    /// conversation goes on. `None`: live, after `position`.
    pub(crate) start: Option<Start>,
    /// The last `seq` the connection counts as sent before anything else
    /// (`None`: unknown; the first change pushed is sent, whatever its seq).
    pub(crate) position: Option<u64>,
}

/// Runs the conversation until it ends, and returns why it ended. The
/// connection leaves the hub before the close frame is written, and counts as
/// live until after it, on every path.
///
/// Not an `async fn`: the connection's state is built here and the future
/// owns it once. (An `async fn` keeps its arguments and the locals made from
/// them side by side in its future, and every idle socket holds that future;
/// see docs/benchmarks/memory-per-socket.md.)
pub(crate) fn converse(
    socket: Box<dyn ClientSocket>,
    conversation: Conversation,
) -> impl std::future::Future<Output = CloseReason> {
    let Conversation {
        registration,
        claims,
        settings,
        authenticator,
        healer,
        start,
        position,
    } = conversation;
    let user_id = registration.user_id();
    let replay = start.map(|start| Box::new(Replay::new(healer.clone(), user_id, start)));
    let connection = Connection {
        socket,
        settings,
        authenticator,
        user_id,
        deadlines: Deadlines::start(
            settings.ping_interval,
            settings.pong_timeout,
            claims.expires_at,
        ),
        auth_budget: AuthBudget::per_minute(settings.max_auth_per_minute),
        position,
        healer,
        replay,
    };
    connection.run(registration, claims.user_id)
}

struct Connection {
    socket: Box<dyn ClientSocket>,
    settings: RealtimeSettings,
    authenticator: Arc<dyn SessionAuthenticator>,
    user_id: UserId,
    deadlines: Deadlines,
    auth_budget: AuthBudget,
    /// The last `seq` sent (`None`: not known yet; the next change is sent).
    position: Option<u64>,
    healer: Healer,
    /// `Some` while a replay runs; boxed, as most connections never replay
    /// and each holds this field for its whole life.
    replay: Option<Box<Replay>>,
}

impl Connection {
    /// The whole conversation; `subject` is the user of the upgrade's claims.
    async fn run(mut self, registration: Registration, subject: UserId) -> CloseReason {
        let _open = OpenConnection::count();
        let user_id = self.user_id;
        tracing::debug!(%user_id, "websocket opened");
        let reason = if subject == user_id {
            // Pushes wait behind the replay: they follow it in order.
            registration.mailbox().hold(self.replay.is_some());
            self.serve(registration.mailbox()).await
        } else {
            CloseReason::SubjectMismatch
        };
        let departure = registration.leave();
        outbound::close(self.socket.as_mut(), reason, self.settings.write_timeout).await;
        drop(departure);
        record_close(user_id, reason);
        reason
    }

    async fn serve(&mut self, mailbox: &Mailbox) -> CloseReason {
        let timer = sleep_until(self.deadlines.next());
        tokio::pin!(timer);
        loop {
            let replaying = self.replay.is_some();
            // The losing branches' futures are dropped before a handler runs,
            // so handlers may use the socket; every source is cancel-safe.
            let step = tokio::select! {
                event = mailbox.next() => self.on_mail(event, mailbox),
                frame = self.socket.recv() => self.on_frame(frame),
                step = replay_step(&mut self.replay), if replaying => self.on_replay(step, mailbox),
                () = &mut timer => {
                    let step = self.on_timer();
                    timer.as_mut().reset(self.deadlines.next());
                    step
                }
            };
            match step {
                Ok(None) => {}
                Ok(Some(frame)) => {
                    let written =
                        outbound::send(self.socket.as_mut(), frame, self.settings.write_timeout)
                            .await;
                    if let Err(reason) = written {
                        return reason;
                    }
                }
                Err(reason) => return reason,
            }
            // Only an `auth` refresh can bring a deadline forward; other
            // changes move deadlines later and are found when the timer fires.
            if self.deadlines.next() < timer.deadline() {
                timer.as_mut().reset(self.deadlines.next());
            }
        }
    }

    fn on_mail(&mut self, event: MailboxEvent, mailbox: &Mailbox) -> Step {
        match event {
            MailboxEvent::Message(change) => self.on_change(change, mailbox),
            MailboxEvent::Lagged => match self.position {
                // Filled up (a burst, or while a replay ran): read on from
                // the log at the socket's pace, instead of closing, unless
                // the client is further behind than a full buffer and a
                // whole batch: then it is not keeping up (1013, it resumes).
                Some(after) if mailbox.newest_seq().saturating_sub(after) <= self.lag_limit() => {
                    metrics::counter!("ws_mailbox_lags_total").increment(1);
                    self.replay_after(after, mailbox);
                    Ok(None)
                }
                // Too far behind, or nowhere to read on from.
                _ => Err(CloseReason::SlowConsumer),
            },
            MailboxEvent::ShutDown => Err(CloseReason::ShuttingDown),
            MailboxEvent::Resync => Err(CloseReason::Resync),
        }
    }

    /// A change pushed live: sent once, in `seq` order.
    fn on_change(&mut self, change: Change, mailbox: &Mailbox) -> Step {
        match self.position {
            Some(last) if change.seq <= last => Ok(None),
            Some(last) if change.seq > last + 1 => {
                // A gap between what was sent and what was pushed (the
                // connection started from an older snapshot than the
                // stream's): read it from the log, this change included.
                self.replay_after(last, mailbox);
                Ok(None)
            }
            _ => {
                self.position = Some(change.seq);
                Ok(Some(OutboundFrame::Text(change.text)))
            }
        }
    }

    /// How far behind the newest change a connection whose mailbox filled up
    /// may be and still read on from the log: its buffer and one batch of
    /// the largest size (so one batch for one user never closes a socket).
    fn lag_limit(&self) -> u64 {
        (self.settings.send_buffer + MAX_BATCH_ITEMS) as u64
    }

    fn replay_after(&mut self, after: u64, mailbox: &Mailbox) {
        metrics::counter!("ws_connection_catch_ups_total").increment(1);
        self.replay = Some(Box::new(Replay::new(
            self.healer.clone(),
            self.user_id,
            Start::After {
                seq: after,
                v1: false,
            },
        )));
        mailbox.hold(true);
    }

    fn on_replay(&mut self, step: ReplayStep, mailbox: &Mailbox) -> Step {
        match step {
            ReplayStep::Send { message, seq } => {
                if let Some(seq) = seq {
                    self.position = Some(seq);
                }
                Ok(reply(&message))
            }
            ReplayStep::Finished { at, sent } => {
                tracing::debug!(user_id = %self.user_id, at, sent, "replayed from the change log");
                self.position = Some(self.position.map_or(at, |last| last.max(at)));
                self.replay = None;
                mailbox.hold(false);
                Ok(None)
            }
            ReplayStep::Failed(error) => {
                // The client retries from where it is: nothing is lost.
                tracing::warn!(user_id = %self.user_id, %error, "replay failed; closing with 1011");
                Err(CloseReason::ReplayFailed)
            }
        }
    }

    fn on_frame(&mut self, frame: Option<Result<InboundFrame, SocketError>>) -> Step {
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
            InboundFrame::Text(text) => self.on_text(&text),
            InboundFrame::Binary { size } if size > self.settings.max_message_size => {
                Err(CloseReason::MessageTooBig)
            }
            InboundFrame::Binary { .. } => Ok(reply(&ServerMessage::error(
                ErrorCode::InvalidMessage,
                "binary frames are not supported: send JSON text",
            ))),
            InboundFrame::Ping(payload) => Ok(Some(OutboundFrame::Pong(payload))),
            InboundFrame::Pong => Ok(None),
            InboundFrame::Close => Err(CloseReason::ClientClosed),
            InboundFrame::TooLarge => Err(CloseReason::MessageTooBig),
        }
    }

    fn on_text(&mut self, text: &str) -> Step {
        match read_client_message(text, &self.settings) {
            ClientRequest::Ping => Ok(reply(&ServerMessage::Pong {
                timestamp: unix_now(),
            })),
            ClientRequest::Auth { token } => self.on_auth(&token),
            ClientRequest::TooLarge => Err(CloseReason::MessageTooBig),
            ClientRequest::Invalid(why) => {
                Ok(reply(&ServerMessage::error(ErrorCode::InvalidMessage, why)))
            }
        }
    }

    fn on_auth(&mut self, token: &str) -> Step {
        if !self.auth_budget.try_spend(Instant::now()) {
            tracing::debug!(user_id = %self.user_id, "websocket auth rate-limited");
            return Ok(reply(&ServerMessage::error(
                ErrorCode::RateLimited,
                "too many auth messages this minute; the current token stays in force",
            )));
        }
        match self.authenticator.authenticate(token) {
            Ok(claims) if claims.user_id == self.user_id => {
                self.deadlines.token_refreshed(claims.expires_at);
                tracing::debug!(user_id = %self.user_id, expires_at = claims.expires_at, "websocket token refreshed");
                Ok(reply(&ServerMessage::AuthOk {
                    expires_at: claims.expires_at,
                }))
            }
            Ok(claims) => {
                tracing::warn!(user_id = %self.user_id, other = %claims.user_id, "websocket auth for another subject");
                Err(CloseReason::SubjectMismatch)
            }
            Err(why) => {
                tracing::debug!(user_id = %self.user_id, reason = %why, "websocket token refresh rejected");
                Ok(reply(&ServerMessage::error(
                    ErrorCode::Unauthorized,
                    format!("token rejected ({why}); the current token stays in force"),
                )))
            }
        }
    }

    fn on_timer(&mut self) -> Step {
        let now = Instant::now();
        match self.deadlines.due(now) {
            Due::TokenExpired => Err(CloseReason::TokenExpired),
            Due::Silence => Err(CloseReason::PongTimeout),
            Due::Ping => {
                self.deadlines.pinged(now);
                Ok(Some(OutboundFrame::Ping))
            }
            Due::Nothing => Ok(None),
        }
    }
}

/// The frame of a message built for this connection alone (replay, pong,
/// auth_ok, error); `None` if it could not be encoded (logged, skipped).
fn reply(message: &ServerMessage) -> Option<OutboundFrame> {
    outbound::encode(message).map(OutboundFrame::Text)
}

async fn replay_step(replay: &mut Option<Box<Replay>>) -> ReplayStep {
    match replay {
        Some(replay) => replay.next().await,
        // The branch is disabled when there is no replay.
        None => std::future::pending().await,
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
