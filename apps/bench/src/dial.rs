//! Opening one authenticated socket from a chosen loopback source address.
//!
//! The client socket is bound before it connects: each source address has
//! its own ~28,000 ephemeral ports, so spreading sockets over 127.0.0.1,
//! 127.0.0.2, … goes past what one address allows.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use url::Url;

use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;

pub type Socket = WebSocketStream<TcpStream>;

/// Read buffer of a client socket. tungstenite allocates 128 KiB per socket
/// by default; server messages are well under 4 KiB, and 19,000 sockets per
/// process must fit in memory next to the server.
const READ_BUFFER: usize = 4 * 1024;

/// Opens a socket to `url` (served at `addr`) from `source`, authenticated
/// with `token` in the `Authorization` header. The error is a short reason,
/// counted in the report.
pub async fn dial(
    addr: SocketAddr,
    url: &Url,
    source: Ipv4Addr,
    token: &str,
    timeout: Duration,
) -> Result<Socket, String> {
    match tokio::time::timeout(timeout, handshake(addr, url, source, token)).await {
        Ok(result) => result,
        Err(_elapsed) => Err("timeout".to_owned()),
    }
}

async fn handshake(
    addr: SocketAddr,
    url: &Url,
    source: Ipv4Addr,
    token: &str,
) -> Result<Socket, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {}", e.kind()))?;
    socket
        .bind(SocketAddr::from((source, 0)))
        .map_err(|e| format!("bind {source}: {}", e.kind()))?;
    let stream = socket
        .connect(addr)
        .await
        .map_err(|e| format!("connect: {}", e.kind()))?;
    // Frames are small and latency is what we measure.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {}", e.kind()))?;

    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "token is not a valid header value".to_owned())?;
    request.headers_mut().insert("Authorization", bearer);

    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        // The client only writes a Close frame: write it out at once.
        .write_buffer_size(0);
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
        Ok((socket, _response)) => Ok(socket),
        Err(WsError::Http(response)) => Err(format!("upgrade refused: {}", response.status())),
        Err(WsError::Io(e)) => Err(format!("handshake: {}", e.kind())),
        Err(e) => Err(format!("handshake: {e}")),
    }
}
