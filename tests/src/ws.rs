//! A real WebSocket client (tokio-tungstenite) for the end-to-end tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::app::TestApp;

/// How long a test waits for something that should arrive within a blink.
pub const ARRIVAL: Duration = Duration::from_secs(10);

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One open client connection.
pub struct WsClient {
    stream: Stream,
    /// The server's `Sec-WebSocket-Protocol` answer, if any.
    pub protocol: Option<String>,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// Options of one connection attempt.
#[derive(Debug, Default, Clone)]
pub struct Connect<'a> {
    pub query_token: Option<&'a str>,
    pub header_token: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// `Sec-WebSocket-Protocol` as sent (e.g. `notifications.v1, bearer.<jwt>`).
    pub subprotocols: Option<&'a str>,
    /// Extra query string, without `?` (e.g. `since=…`).
    pub query: Option<&'a str>,
}

impl TestApp {
    /// `ws://host:port/ws/notifications`.
    pub fn ws_url(&self) -> String {
        format!(
            "{}/ws/notifications",
            self.base_url.replacen("http", "ws", 1)
        )
    }

    /// Connects with `?token=`; panics when the upgrade is refused.
    pub async fn ws(&self, token: &str) -> WsClient {
        self.ws_connect(Connect {
            query_token: Some(token),
            ..Connect::default()
        })
        .await
        .unwrap_or_else(|status| panic!("upgrade refused with {status}"))
    }

    /// Connects with `?token=` and `?since=`; panics when the upgrade is refused.
    pub async fn ws_since(&self, token: &str, since: &str) -> WsClient {
        let since = format!("since={since}");
        self.ws_connect(Connect {
            query_token: Some(token),
            query: Some(&since),
            ..Connect::default()
        })
        .await
        .unwrap_or_else(|status| panic!("upgrade refused with {status}"))
    }

    /// Connects as told; `Err(status)` when the server refuses the upgrade.
    pub async fn ws_connect(&self, options: Connect<'_>) -> Result<WsClient, u16> {
        let mut query: Vec<String> = Vec::new();
        if let Some(token) = options.query_token {
            query.push(format!("token={token}"));
        }
        if let Some(extra) = options.query {
            query.push(extra.to_owned());
        }
        let mut url = self.ws_url();
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut request = url.into_client_request().expect("a valid ws URL");
        if let Some(token) = options.header_token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header value");
            request.headers_mut().insert("authorization", value);
        }
        if let Some(origin) = options.origin {
            let value = HeaderValue::from_str(origin).expect("header value");
            request.headers_mut().insert("origin", value);
        }
        if let Some(offers) = options.subprotocols {
            let value = HeaderValue::from_str(offers).expect("header value");
            request
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => Ok(WsClient {
                stream,
                protocol: response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            }),
            Err(WsError::Http(response)) => Err(response.status().as_u16()),
            Err(other) => panic!("WebSocket connection failed: {other}"),
        }
    }
}

impl WsClient {
    /// The next JSON message from the server, skipping control frames.
    /// Panics on close, on timeout or on a non-JSON frame.
    pub async fn next_json(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(ARRIVAL, self.stream.next())
                .await
                .expect("a message arrives in time")
                .expect("the connection is open")
                .expect("a valid frame");
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("server messages are JSON")
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                Message::Binary(_) => panic!("the server sent a binary frame"),
                Message::Close(frame) => panic!("closed unexpectedly: {frame:?}"),
            }
        }
    }

    /// The next message, which must be of `type`.
    pub async fn expect(&mut self, message_type: &str) -> Value {
        let message = self.next_json().await;
        assert_eq!(
            message["type"], message_type,
            "unexpected message {message}"
        );
        message
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text.to_owned()))
            .await
            .expect("send succeeds");
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream
            .send(Message::binary(bytes))
            .await
            .expect("send succeeds");
    }

    /// Reads until the server closes; returns the close code and reason.
    /// Text messages before the close are skipped and counted in the result's
    /// second element.
    pub async fn expect_close_within(&mut self, wait: Duration) -> (Closed, usize) {
        let mut skipped = 0;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("the server closes in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (
                        Closed {
                            code: u16::from(frame.code),
                            reason: frame.reason.as_str().to_owned(),
                        },
                        skipped,
                    )
                }
                Some(Ok(Message::Close(None))) => {
                    return (
                        Closed {
                            code: u16::from(CloseCode::Status),
                            reason: String::new(),
                        },
                        skipped,
                    )
                }
                Some(Ok(Message::Text(_))) => skipped += 1,
                Some(Ok(_)) => continue,
                Some(Err(error)) => panic!("connection failed instead of closing: {error}"),
                None => panic!("the stream ended without a close frame"),
            }
        }
    }

    /// [`WsClient::expect_close_within`] with the default wait.
    pub async fn expect_close(&mut self) -> Closed {
        self.expect_close_within(ARRIVAL).await.0
    }

    /// Closes from the client side.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
