//! Behaviour of one live connection, driven through an in-memory socket with
//! tokio's clock paused (timers fire as soon as nothing else can run).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use notification_application::realtime::{
    ClientSocket, InboundFrame, OutboundFrame, RealtimeSettings, SessionAuthenticator,
    SessionClaims, SocketError, TokenRejected,
};
use notification_domain::UserId;
use serde_json::json;
use tokio::task::{spawn_local, JoinHandle, LocalSet};
use tokio::time::Instant;
use uuid::Uuid;

use crate::realtime::close::CloseReason;
use crate::realtime::conversation::{converse, Conversation};
use crate::realtime::deadlines::unix_now;
use crate::realtime::fake_socket::{connected_pair, FakeClient};
use crate::realtime::healer::Healer;
use crate::realtime::hub::{Hub, Registration};

/// A conversation without a `since` replay.
async fn run_connection(
    socket: Box<dyn ClientSocket>,
    registration: Registration,
    claims: SessionClaims,
    settings: RealtimeSettings,
    authenticator: Arc<dyn SessionAuthenticator>,
) -> CloseReason {
    let conversation = Conversation {
        registration,
        claims,
        settings,
        authenticator,
        // Nothing here reads storage: changes are pushed in order.
        healer: Healer::reading(
            Hub::new(&settings),
            notification_domain::MockNotificationRepository::new(),
        ),
        start: None,
        position: None,
    };
    converse(socket, conversation).await
}

/// Accepts the tokens it was given, rejects every other one.
#[derive(Default)]
struct Tokens(HashMap<String, SessionClaims>);

impl Tokens {
    fn with(mut self, token: impl Into<String>, user_id: UserId, ttl_secs: i64) -> Self {
        let claims = SessionClaims {
            user_id,
            expires_at: unix_now() + ttl_secs,
        };
        self.0.insert(token.into(), claims);
        self
    }
}

impl SessionAuthenticator for Tokens {
    fn authenticate(&self, token: &str) -> Result<SessionClaims, TokenRejected> {
        self.0.get(token).copied().ok_or(TokenRejected::Invalid)
    }
}

struct Connection {
    hub: Hub,
    user: UserId,
    client: FakeClient,
    conversation: JoinHandle<CloseReason>,
    started: Instant,
}

fn new_user() -> UserId {
    UserId::from_uuid(Uuid::new_v4())
}

/// A connection of `user` whose token expires in `ttl_secs`, served by
/// `run_connection` on the local task set; `tokens` are what an `auth`
/// message may present.
fn connect_as(
    user: UserId,
    settings: RealtimeSettings,
    ttl_secs: i64,
    tokens: Tokens,
) -> Connection {
    let hub = Hub::new(&settings);
    let registration = hub.register(user).unwrap();
    let claims = SessionClaims {
        user_id: user,
        expires_at: unix_now() + ttl_secs,
    };
    let (socket, client) = connected_pair();
    let conversation = spawn_local(run_connection(
        Box::new(socket),
        registration,
        claims,
        settings,
        Arc::new(tokens),
    ));
    Connection {
        hub,
        user,
        client,
        conversation,
        started: Instant::now(),
    }
}

fn connect_default() -> Connection {
    connect_as(
        new_user(),
        RealtimeSettings::default(),
        3600,
        Tokens::default(),
    )
}

/// Settings where pings and silence never interfere with the test.
fn quiet() -> RealtimeSettings {
    RealtimeSettings {
        ping_interval: Duration::from_secs(100_000),
        pong_timeout: Duration::from_secs(100_000),
        ..RealtimeSettings::default()
    }
}

impl Connection {
    /// Waits for the loop to end and checks it left the hub.
    async fn ended(self) -> (CloseReason, FakeClient) {
        let reason = self.conversation.await.unwrap();
        assert_eq!(self.hub.connections_of(self.user), 0, "still registered");
        assert_eq!(self.hub.total_connections(), 0);
        (reason, self.client)
    }

    fn elapsed(&self) -> Duration {
        Instant::now() - self.started
    }
}

async fn local<F: Future>(test: F) -> F::Output {
    LocalSet::new().run_until(test).await
}

/// The most the future of one conversation may take (bytes, test build).
/// Every open socket holds it for its whole life, idle or not; see
/// docs/benchmarks/memory-per-socket.md (2026-12-04). The release build's is
/// about the same as the test build's (1296 and 1288 bytes on 2026-12-04;
/// 2888 in the release build before).
const CONVERSATION_FUTURE_LIMIT: usize = 1536;

#[tokio::test]
async fn the_future_every_open_socket_holds_stays_small() {
    let settings = RealtimeSettings::default();
    let hub = Hub::new(&settings);
    let user = new_user();
    let conversation = Conversation {
        registration: hub.register(user).unwrap(),
        claims: SessionClaims {
            user_id: user,
            expires_at: unix_now() + 3600,
        },
        settings,
        authenticator: Arc::new(Tokens::default()),
        healer: Healer::reading(
            Hub::new(&settings),
            notification_domain::MockNotificationRepository::new(),
        ),
        start: None,
        position: None,
    };
    let (socket, _client) = connected_pair();
    // Built, never polled: its size is fixed at compile time.
    let future = converse(Box::new(socket), conversation);
    let size = std::mem::size_of_val(&future);
    println!("conversation future: {size} bytes");
    assert!(
        size <= CONVERSATION_FUTURE_LIMIT,
        "the conversation future takes {size} bytes, more than {CONVERSATION_FUTURE_LIMIT}: \
         state added to it (or an `await` in a handler) costs every idle socket"
    );
}

#[tokio::test(start_paused = true)]
async fn pings_go_out_every_interval_and_any_answer_keeps_the_connection() {
    local(async {
        let mut c = connect_default();
        assert_eq!(c.client.next().await, Some(OutboundFrame::Ping));
        assert_eq!(c.elapsed(), Duration::from_secs(54));
        c.client.send(InboundFrame::Pong);

        assert_eq!(c.client.next().await, Some(OutboundFrame::Ping));
        assert_eq!(c.elapsed(), Duration::from_secs(108), "alive past 60 s");
        assert_eq!(c.hub.connections_of(c.user), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn silence_past_the_pong_timeout_closes_with_1000() {
    local(async {
        let mut c = connect_default();
        assert_eq!(c.client.next().await, Some(OutboundFrame::Ping));
        assert_eq!(c.client.next_close().await, (1000, "pong timeout".into()));
        assert_eq!(c.elapsed(), Duration::from_secs(60));
        let (reason, _) = c.ended().await;
        assert_eq!(reason, CloseReason::PongTimeout);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_ping_message_is_answered_with_a_pong_and_the_time() {
    local(async {
        let mut c = connect_default();
        c.client.send_text(r#"{"type":"ping"}"#);
        let pong = c.client.next_json().await;
        assert_eq!(pong["type"], "pong");
        let timestamp = pong["timestamp"].as_i64().unwrap();
        assert!((timestamp - unix_now()).abs() <= 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_protocol_ping_is_answered_with_its_payload() {
    local(async {
        let mut c = connect_default();
        c.client.send(InboundFrame::Ping(b"hb".to_vec()));
        assert_eq!(
            c.client.next().await,
            Some(OutboundFrame::Pong(b"hb".to_vec()))
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn bad_json_gets_an_error_and_the_connection_stays_open() {
    local(async {
        let mut c = connect_default();
        c.client.send_text("{not json");
        let error = c.client.next_json().await;
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["code"], "invalid_message");

        c.client.send_text(r#"{"type":"ping"}"#);
        assert_eq!(c.client.next_json().await["type"], "pong");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_unknown_type_gets_an_error_and_the_connection_stays_open() {
    local(async {
        let mut c = connect_default();
        c.client.send_text(r#"{"type":"subscribe"}"#);
        assert_eq!(
            c.client.next_json().await["error"]["code"],
            "invalid_message"
        );
        c.client.send_text(r#"{"type":"ping"}"#);
        assert_eq!(c.client.next_json().await["type"], "pong");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_binary_frame_gets_an_error() {
    local(async {
        let mut c = connect_default();
        c.client.send(InboundFrame::Binary { size: 512 });
        assert_eq!(
            c.client.next_json().await["error"]["code"],
            "invalid_message"
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn every_kind_of_message_over_the_size_limit_closes_with_1009() {
    local(async {
        let padded_text = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(512));
        for too_big in [
            InboundFrame::Text(padded_text),
            InboundFrame::Binary { size: 513 },
            // Refused by the transport itself (frame or fragmented message).
            InboundFrame::TooLarge,
        ] {
            let mut c = connect_default();
            c.client.send(too_big);
            assert_eq!(
                c.client.next_close().await,
                (1009, "message too big".into())
            );
            let (reason, _) = c.ended().await;
            assert_eq!(reason, CloseReason::MessageTooBig);
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_auth_message_may_be_longer_than_the_limit() {
    local(async {
        let user = new_user();
        let long_token = "t".repeat(4000);
        let tokens = Tokens::default().with(long_token.clone(), user, 7200);
        let mut c = connect_as(user, RealtimeSettings::default(), 60, tokens);

        c.client
            .send_text(json!({"type": "auth", "token": long_token}).to_string());

        assert_eq!(c.client.next_json().await["type"], "auth_ok");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_auth_message_over_8_kib_closes_with_1009() {
    local(async {
        let user = new_user();
        let huge_token = "t".repeat(8 * 1024);
        let tokens = Tokens::default().with(huge_token.clone(), user, 7200);
        let mut c = connect_as(user, RealtimeSettings::default(), 60, tokens);

        c.client
            .send_text(json!({"type": "auth", "token": huge_token}).to_string());

        assert_eq!(c.client.next_close().await.0, 1009);
        assert_eq!(c.ended().await.0, CloseReason::MessageTooBig);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_auth_refresh_for_the_same_user_outlives_the_first_token() {
    local(async {
        let user = new_user();
        let tokens = Tokens::default().with("fresh", user, 1000);
        let mut c = connect_as(user, quiet(), 100, tokens);

        c.client.send_text(r#"{"type":"auth","token":"fresh"}"#);
        let ok = c.client.next_json().await;
        assert_eq!(ok["type"], "auth_ok");
        let expires_at = ok["expires_at"].as_i64().unwrap();
        assert!((expires_at - (unix_now() + 1000)).abs() <= 1);

        tokio::time::sleep(Duration::from_secs(200)).await;
        c.client.send_text(r#"{"type":"ping"}"#);
        assert_eq!(
            c.client.next_json().await["type"],
            "pong",
            "alive past the first exp"
        );

        assert_eq!(c.client.next_close().await, (1008, "token expired".into()));
        assert!(c.elapsed() >= Duration::from_secs(998));
        assert_eq!(c.ended().await.0, CloseReason::TokenExpired);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_auth_refresh_with_an_earlier_exp_brings_the_close_forward() {
    local(async {
        let user = new_user();
        let tokens = Tokens::default().with("short", user, 50);
        let mut c = connect_as(user, quiet(), 3600, tokens);

        c.client.send_text(r#"{"type":"auth","token":"short"}"#);
        assert_eq!(c.client.next_json().await["type"], "auth_ok");

        assert_eq!(c.client.next_close().await, (1008, "token expired".into()));
        assert!(c.elapsed() <= Duration::from_secs(50));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_auth_refresh_for_another_user_closes_with_1008() {
    local(async {
        let user = new_user();
        let tokens = Tokens::default().with("someone-else", new_user(), 1000);
        let mut c = connect_as(user, quiet(), 100, tokens);

        c.client
            .send_text(r#"{"type":"auth","token":"someone-else"}"#);

        assert_eq!(
            c.client.next_close().await,
            (1008, "subject mismatch".into())
        );
        assert_eq!(c.ended().await.0, CloseReason::SubjectMismatch);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_invalid_auth_token_is_an_error_and_the_current_token_stays_in_force() {
    local(async {
        let mut c = connect_as(new_user(), quiet(), 100, Tokens::default());

        c.client.send_text(r#"{"type":"auth","token":"forged"}"#);
        let error = c.client.next_json().await;
        assert_eq!(error["error"]["code"], "unauthorized");
        assert!(
            !error.to_string().contains("forged"),
            "the token is not echoed"
        );

        assert_eq!(c.client.next_close().await, (1008, "token expired".into()));
        assert!(c.elapsed() >= Duration::from_secs(98));
        assert!(c.elapsed() <= Duration::from_secs(100));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_connection_closes_with_1008_when_the_token_expires() {
    local(async {
        let mut c = connect_as(new_user(), quiet(), 30, Tokens::default());
        assert_eq!(c.client.next_close().await, (1008, "token expired".into()));
        assert_eq!(c.ended().await.0, CloseReason::TokenExpired);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn claims_of_another_user_are_refused_with_1008() {
    local(async {
        let settings = RealtimeSettings::default();
        let hub = Hub::new(&settings);
        let user = new_user();
        let registration = hub.register(user).unwrap();
        let (socket, mut client) = connected_pair();
        let claims = SessionClaims {
            user_id: new_user(),
            expires_at: unix_now() + 3600,
        };

        let reason = run_connection(
            Box::new(socket),
            registration,
            claims,
            settings,
            Arc::new(Tokens::default()),
        )
        .await;

        assert_eq!(reason, CloseReason::SubjectMismatch);
        assert_eq!(client.next_close().await.0, 1008);
        assert_eq!(hub.total_connections(), 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn pushed_messages_are_written_in_order() {
    local(async {
        let mut c = connect_default();
        for n in 0..3 {
            assert_eq!(
                c.hub
                    .send_to_user(c.user, &json!({"n": n}).to_string().into()),
                1
            );
        }
        for n in 0..3 {
            assert_eq!(c.client.next_json().await, json!({"n": n}));
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_full_mailbox_closes_with_1013_when_the_connection_does_not_know_its_last_seq() {
    local(async {
        let settings = RealtimeSettings {
            send_buffer: 2,
            ..RealtimeSettings::default()
        };
        let mut c = connect_as(new_user(), settings, 3600, Tokens::default());
        // The loop has not run yet: nothing drains the mailbox.
        let reached: usize = (0..3)
            .map(|n| c.hub.send_to_user(c.user, &format!("{n}").into()))
            .sum();
        assert_eq!(reached, 2);

        assert_eq!(c.client.next_close().await, (1013, "slow consumer".into()));
        assert_eq!(c.ended().await.0, CloseReason::SlowConsumer);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn hub_shutdown_closes_with_1001() {
    local(async {
        let mut c = connect_default();
        c.client.send_text(r#"{"type":"ping"}"#);
        assert_eq!(c.client.next_json().await["type"], "pong");

        c.hub.shutdown();

        assert_eq!(
            c.client.next_close().await,
            (1001, "server shutting down".into())
        );
        let hub = c.hub.clone();
        assert_eq!(c.ended().await.0, CloseReason::ShuttingDown);
        hub.drained().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_resync_writes_what_was_queued_then_closes_with_1012() {
    local(async {
        let mut c = connect_default();
        assert_eq!(c.hub.send_to_user(c.user, &r#"{"n":1}"#.into()), 1);

        assert_eq!(c.hub.resync_all(), 1);

        assert_eq!(c.client.next_json().await, json!({"n": 1}));
        assert_eq!(
            c.client.next_close().await,
            (
                1012,
                "events may have been missed; resume with since".into()
            )
        );
        let (reason, mut client) = c.ended().await;
        assert_eq!(reason, CloseReason::Resync);
        assert_eq!(client.next().await, None, "nothing after the close");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_connection_opened_after_a_resync_keeps_serving() {
    local(async {
        let settings = RealtimeSettings::default();
        let hub = Hub::new(&settings);
        let user = new_user();
        let serve = |hub: &Hub| {
            let (socket, client) = connected_pair();
            let claims = SessionClaims {
                user_id: user,
                expires_at: unix_now() + 3600,
            };
            let conversation = spawn_local(run_connection(
                Box::new(socket),
                hub.register(user).unwrap(),
                claims,
                settings,
                Arc::new(Tokens::default()),
            ));
            (client, conversation)
        };
        let (mut old, old_conversation) = serve(&hub);

        assert_eq!(hub.resync_all(), 1);
        let (mut new, _new_conversation) = serve(&hub);

        assert_eq!(old.next_close().await.0, 1012);
        assert_eq!(old_conversation.await.unwrap(), CloseReason::Resync);
        assert_eq!(hub.send_to_user(user, &r#"{"n":2}"#.into()), 1);
        assert_eq!(new.next_json().await, json!({"n": 2}));
        new.send_text(r#"{"type":"ping"}"#);
        assert_eq!(new.next_json().await["type"], "pong");
        assert_eq!(hub.connections_of(user), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_client_close_is_answered_and_ends_the_connection() {
    local(async {
        let mut c = connect_default();
        c.client.send(InboundFrame::Close);
        assert_eq!(c.client.next_close().await.0, 1000);
        assert_eq!(c.ended().await.0, CloseReason::ClientClosed);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_end_of_the_client_stream_ends_the_connection_without_a_frame() {
    local(async {
        let mut c = connect_default();
        c.client.hang_up();
        let (reason, mut client) = c.ended().await;
        assert_eq!(reason, CloseReason::StreamEnded);
        assert_eq!(client.next().await, None);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_transport_error_closes_with_1002() {
    local(async {
        let mut c = connect_default();
        c.client
            .send_result(Err(SocketError::Transport("bad opcode".into())));
        assert_eq!(c.client.next_close().await.0, 1002);
        assert_eq!(c.ended().await.0, CloseReason::ProtocolError);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_write_that_does_not_complete_in_time_drops_the_connection() {
    local(async {
        let c = connect_default();
        c.client.stall_writes();
        assert_eq!(c.hub.send_to_user(c.user, &"stuck".into()), 1);

        let started = c.started;
        let (reason, _) = c.ended().await;

        assert_eq!(reason, CloseReason::WriteTimeout);
        assert_eq!(Instant::now() - started, Duration::from_secs(10));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn auth_messages_past_the_limit_per_minute_are_refused_unchecked() {
    local(async {
        let user = new_user();
        let mut c = connect_as(
            user,
            quiet(),
            3600,
            Tokens::default().with("good", user, 7200),
        );
        for _ in 0..10 {
            c.client.send_text(r#"{"type":"auth","token":"bad"}"#);
            assert_eq!(c.client.next_json().await["error"]["code"], "unauthorized");
        }
        c.client.send_text(r#"{"type":"auth","token":"good"}"#);
        assert_eq!(
            c.client.next_json().await["error"]["code"],
            "rate_limited",
            "the 11th auth of the minute is not checked, even with a good token"
        );

        tokio::time::advance(Duration::from_secs(60)).await;
        c.client.send_text(r#"{"type":"auth","token":"good"}"#);
        assert_eq!(c.client.next_json().await["type"], "auth_ok");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_hub_is_not_drained_before_the_1001_frame_is_written() {
    local(async {
        let mut c = connect_default();
        c.client.send_text(r#"{"type":"ping"}"#);
        assert_eq!(c.client.next_json().await["type"], "pong");
        c.client.stall_writes();

        c.hub.shutdown();
        let drained = c.hub.clone();
        let drained = spawn_local(async move { drained.drained().await });
        tokio::time::advance(Duration::from_secs(9)).await;
        tokio::task::yield_now().await;
        assert!(
            !drained.is_finished(),
            "drained while the 1001 frame was still being written"
        );
        assert_eq!(c.hub.connections_of(c.user), 0, "left the hub at once");

        // The write gives up after WS_WRITE_TIMEOUT (10 s); then it is drained.
        drained.await.unwrap();
        assert_eq!(c.conversation.await.unwrap(), CloseReason::ShuttingDown);
    })
    .await;
}
