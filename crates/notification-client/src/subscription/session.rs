//! One open socket: yield the changes the server sends once each, in `seq`
//! order (a gap is filled from the changes feed first), keep the token fresh
//! in-band, and report how the socket ended.

use futures_util::{SinkExt, StreamExt};
use notification_protocol::{ClientMessage, ErrorCode, ServerMessage};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::driver::{Driver, Gone};
use super::events::{DisconnectReason, Event};
use super::socket::WsStream;
use crate::token::{expiry, refresh_delay, unix_now};

/// How a socket ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// Closed with 1008 (token expired, or a token of another user): a new
    /// token is needed. `token` is the one the socket last used.
    TokenExpired {
        token: String,
        reason: DisconnectReason,
    },
    /// Anything else: reconnect after the back-off.
    Retry(DisconnectReason),
}

/// The state of one socket.
struct Session {
    /// The token the server holds for this socket.
    in_use: String,
    /// When to ask the provider for a fresh token.
    refresh_at: Option<Instant>,
    /// Expiry of the token in use (Unix seconds), when known.
    expires_at: Option<i64>,
    /// An `auth` was sent and not answered yet.
    awaiting_auth: bool,
}

impl Driver {
    /// Serves an open socket until it ends. When the subscription is closed
    /// or dropped meanwhile, the socket is closed with 1000 (not left to end
    /// as a 1006), and `Gone` returned.
    pub(super) async fn serve(
        &mut self,
        mut stream: WsStream,
        token: String,
    ) -> Result<Ended, Gone> {
        let served = self.serve_open(&mut stream, token).await;
        if served.is_err() {
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "subscription closed".into(),
            };
            // Bounded: a peer that does not read must not keep the task alive.
            let timeout = self.client.config().connect_timeout;
            let _ = tokio::time::timeout(timeout, stream.close(Some(frame))).await;
        }
        served
    }

    async fn serve_open(&mut self, stream: &mut WsStream, token: String) -> Result<Ended, Gone> {
        self.rejections = 0;
        let mut session = Session {
            expires_at: expiry(&token),
            in_use: token,
            refresh_at: None,
            awaiting_auth: false,
        };
        self.schedule_refresh(&mut session);
        self.emit(Event::Connected).await?;
        loop {
            let refresh_at = session.refresh_at;
            let gone = self.gone();
            tokio::select! {
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(ended) = self.on_text(&mut session, text.as_str()).await? {
                            let _ = stream.close(None).await;
                            return Ok(ended);
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        // Let tungstenite send its reply to the close.
                        let _ = stream.flush().await;
                        return Ok(closed(frame, session.in_use));
                    }
                    // Pings are answered by tungstenite while we read.
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        return Ok(Ended::Retry(DisconnectReason::Network(error.to_string())))
                    }
                    None => {
                        return Ok(Ended::Retry(DisconnectReason::Network(
                            "the connection ended without a close frame".to_owned(),
                        )))
                    }
                },
                () = gone => return Err(Gone),
                () = sleep_until(refresh_at) => {
                    session.refresh_at = None;
                    if let Some(fresh) = self.client.fresh_token_replacing(&session.in_use).await {
                        // Our own replacement: not a change to react to below.
                        self.tokens.borrow_and_update();
                        if let Err(ended) = send_auth(stream, &mut session, fresh).await {
                            return Ok(ended);
                        }
                    } else {
                        tracing::debug!("no fresh token before expiry; the server will close with 1008");
                    }
                }
                changed = self.tokens.changed() => {
                    changed.map_err(|_| Gone)?;
                    let token = self.tokens.borrow_and_update().clone();
                    if token != session.in_use {
                        if let Err(ended) = send_auth(stream, &mut session, token).await {
                            return Ok(ended);
                        }
                    }
                }
            }
        }
    }

    /// Handles one server message; `Some` when the socket must be dropped.
    async fn on_text(&mut self, session: &mut Session, text: &str) -> Result<Option<Ended>, Gone> {
        let message = match serde_json::from_str::<ServerMessage>(text) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "ignoring a server message this client does not know");
                return Ok(None);
            }
        };
        match message {
            change @ (ServerMessage::Notification { .. }
            | ServerMessage::NotificationUpdate { .. }) => {
                if let Err(reason) = self.on_change(change).await? {
                    return Ok(Some(Ended::Retry(reason)));
                }
            }
            ServerMessage::Resync { seq, unread_count } => {
                tracing::info!(
                    seq,
                    "the server no longer keeps what followed the resume point; reload"
                );
                self.seq.send_replace(Some(seq));
                self.emit(Event::Resync { seq, unread_count }).await?;
            }
            ServerMessage::Pong { .. } => {}
            ServerMessage::AuthOk { expires_at } => {
                session.awaiting_auth = false;
                let later = session.expires_at.is_none_or(|old| expires_at > old);
                session.expires_at = Some(expires_at);
                if later {
                    self.schedule_refresh(session);
                }
                self.emit(Event::TokenRefreshed { expires_at }).await?;
            }
            ServerMessage::Error { error } => match error.code {
                ErrorCode::UnknownSince => {
                    tracing::info!("resume point unknown to the server; reload");
                    if let Err(reason) = self.reload().await? {
                        return Ok(Some(Ended::Retry(reason)));
                    }
                }
                ErrorCode::Unauthorized | ErrorCode::RateLimited if session.awaiting_auth => {
                    // The socket keeps its old expiry (a rate-limited `auth`
                    // was not even checked); the server closes with 1008
                    // then, and the token path takes over.
                    session.awaiting_auth = false;
                    tracing::warn!(message = %error.message, "the server refused the refreshed token");
                }
                code => {
                    tracing::warn!(?code, message = %error.message, "error message from the server")
                }
            },
        }
        Ok(None)
    }

    /// A change from the socket: yielded once, in `seq` order; one more
    /// than one ahead of the last yielded is preceded by the ones between,
    /// read from the changes feed. `Ok(Err(_))` when that read failed (the
    /// socket is then dropped and the next one resumes after the last change
    /// yielded).
    async fn on_change(
        &mut self,
        change: ServerMessage,
    ) -> Result<Result<(), DisconnectReason>, Gone> {
        let Some(seq) = seq_of(&change) else {
            return Ok(Ok(()));
        };
        match self.last_seq() {
            Some(last) if seq <= last => {
                tracing::debug!(seq, last, "dropped a change already yielded");
                return Ok(Ok(()));
            }
            Some(last) if seq > last + 1 => {
                tracing::info!(
                    seq,
                    last,
                    "a gap in the changes; filling it from the changes feed"
                );
                if let Err(reason) = self.heal(last, seq - 1).await? {
                    return Ok(Err(reason));
                }
                if self.last_seq().is_some_and(|last| seq <= last) {
                    return Ok(Ok(()));
                }
            }
            _ => {}
        }
        self.yield_change(change).await?;
        Ok(Ok(()))
    }

    /// Yields the changes after `after` up to `until`, read from the changes
    /// feed page by page; reloads when they are no longer kept (410).
    async fn heal(&mut self, after: u64, until: u64) -> Result<Result<(), DisconnectReason>, Gone> {
        let mut last = after;
        while last < until {
            let page = match self.client.changes(last, Some(FEED_PAGE)).await {
                Ok(page) => page,
                Err(error) if error.status() == Some(410) => return self.reload().await,
                Err(error) => return Ok(Err(error.into())),
            };
            let before = last;
            for change in page.changes {
                if seq_of(&change) == Some(last + 1) {
                    last += 1;
                    self.yield_change(change).await?;
                }
            }
            if !page.has_more || last == before {
                break;
            }
        }
        Ok(Ok(()))
    }

    /// The changes the application lacks are not kept: it reloads, and the
    /// feed goes on from the user's position now.
    pub(super) async fn reload(&mut self) -> Result<Result<(), DisconnectReason>, Gone> {
        match self.client.position().await {
            Ok(position) => {
                self.seq.send_replace(Some(position.seq));
                self.emit(Event::Resync {
                    seq: position.seq,
                    unread_count: position.unread_count,
                })
                .await?;
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error.into())),
        }
    }

    /// Yields one change and records its `seq` as the resume point.
    async fn yield_change(&mut self, change: ServerMessage) -> Result<(), Gone> {
        let (seq, event) = match change {
            ServerMessage::Notification {
                data,
                unread_count,
                seq,
            } => (
                seq,
                Event::Notification {
                    notification: data,
                    unread_count,
                    seq,
                },
            ),
            ServerMessage::NotificationUpdate {
                notification_id,
                update_type,
                data,
                unread_count,
                seq,
            } => (
                seq,
                Event::Update {
                    notification_id,
                    update_type,
                    data,
                    unread_count,
                    seq,
                },
            ),
            _ => return Ok(()),
        };
        self.seq.send_replace(Some(seq));
        self.emit(event).await
    }

    /// Plans the next in-band refresh: only with a provider, and only for a
    /// token whose expiry is known.
    fn schedule_refresh(&self, session: &mut Session) {
        session.refresh_at = match (&self.client.config().token_provider, session.expires_at) {
            (Some(_), Some(expires_at)) => {
                let margin = self.client.config().refresh_before_expiry;
                Some(Instant::now() + refresh_delay(expires_at, unix_now(), margin))
            }
            _ => None,
        };
    }
}

/// Changes read per page of the changes feed (the server's maximum).
const FEED_PAGE: u32 = 500;

/// The `seq` of a change message.
fn seq_of(message: &ServerMessage) -> Option<u64> {
    match message {
        ServerMessage::Notification { seq, .. } | ServerMessage::NotificationUpdate { seq, .. } => {
            Some(*seq)
        }
        _ => None,
    }
}

/// Sends `{"type":"auth","token":…}`; the socket's token becomes `token`.
async fn send_auth(
    stream: &mut WsStream,
    session: &mut Session,
    token: String,
) -> Result<(), Ended> {
    let text = serde_json::to_string(&ClientMessage::Auth {
        token: token.clone(),
    })
    .unwrap_or_default();
    session.in_use = token;
    session.awaiting_auth = true;
    session.refresh_at = None;
    stream
        .send(Message::text(text))
        .await
        .map_err(|error| Ended::Retry(DisconnectReason::Network(error.to_string())))
}

/// What a close frame from the server means: 1008 needs a new token; any
/// other code (1001 restart, 1012 events may have been missed, 1013 slow
/// consumer, …) is retried with `since_seq`. The socket was open, so the back-off
/// starts over and the first wait is the shortest one (`Backoff::initial`,
/// jittered): a 1012, sent to every socket of a node at once, is followed by
/// a prompt reconnection that does not bring them all back in one instant.
fn closed(frame: Option<CloseFrame>, token: String) -> Ended {
    let (code, text) = frame.map_or((1005, String::new()), |frame| {
        (u16::from(frame.code), frame.reason.as_str().to_owned())
    });
    let reason = DisconnectReason::Closed { code, reason: text };
    if code == 1008 {
        Ended::TokenExpired { token, reason }
    } else {
        Ended::Retry(reason)
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    fn frame(code: u16, reason: &'static str) -> Option<CloseFrame> {
        Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })
    }

    #[test]
    fn a_resync_close_is_retried_with_its_code_and_reason() {
        let ended = closed(
            frame(1012, "events may have been missed; resume with since"),
            "t".into(),
        );
        let Ended::Retry(DisconnectReason::Closed { code, reason }) = ended else {
            panic!("1012 must be retried, got {ended:?}");
        };
        assert_eq!(code, 1012);
        assert_eq!(reason, "events may have been missed; resume with since");
    }

    #[test]
    fn only_1008_asks_for_a_new_token() {
        for code in [1000, 1001, 1011, 1012, 1013, 4000] {
            let ended = closed(frame(code, ""), "t".into());
            assert!(matches!(ended, Ended::Retry(_)), "{code}: {ended:?}");
        }
        let ended = closed(frame(1008, "token expired"), "t".into());
        assert!(
            matches!(&ended, Ended::TokenExpired { token, .. } if token == "t"),
            "{ended:?}"
        );
    }

    #[test]
    fn a_close_without_a_frame_is_retried_as_1005() {
        let ended = closed(None, "t".into());
        assert!(
            matches!(
                ended,
                Ended::Retry(DisconnectReason::Closed { code: 1005, .. })
            ),
            "{ended:?}"
        );
    }
}
