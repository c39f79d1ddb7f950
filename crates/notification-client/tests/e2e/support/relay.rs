//! A TCP relay in front of the server under test, standing in for a load
//! balancer: the client keeps one address while servers behind it stop and
//! start (on new ports), and it can deliver every `notification` frame twice
//! (at-least-once delivery taken to the extreme) or lose some (a broken
//! proxy).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The relay; stops accepting when dropped.
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    duplicate_notifications: AtomicBool,
    /// How many frames were sent twice.
    duplicated: AtomicUsize,
    /// Notification frames whose title starts with this are not relayed.
    lose_titled: Mutex<Option<String>>,
    /// How many frames were lost.
    lost: AtomicUsize,
}

/// What a relayed WebSocket does to the server's frames.
#[derive(Clone, Copy)]
enum Rewrite<'a> {
    Duplicate(&'a Shared),
    Lose(&'a Shared, &'a str),
}

impl Relay {
    /// Listens on a random local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay binds");
        let addr = listener.local_addr().expect("relay address");
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            duplicate_notifications: AtomicBool::new(false),
            duplicated: AtomicUsize::new(0),
            lose_titled: Mutex::new(None),
            lost: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// `http://127.0.0.1:<relay port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// New connections go to `upstream` from now on (open ones stay where
    /// they are).
    pub fn point_to(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().expect("not poisoned") = upstream;
    }

    /// From now on, new WebSockets receive every `notification` frame twice.
    pub fn duplicate_notifications(&self) {
        self.shared
            .duplicate_notifications
            .store(true, Ordering::SeqCst);
    }

    /// From now on, new WebSockets lose every `notification` frame whose
    /// title starts with `prefix`.
    pub fn lose_notifications_titled(&self, prefix: &str) {
        *self.shared.lose_titled.lock().expect("not poisoned") = Some(prefix.to_owned());
    }

    /// How many `notification` frames were lost so far.
    pub fn lost(&self) -> usize {
        self.shared.lost.load(Ordering::SeqCst)
    }

    /// How many `notification` frames were delivered twice so far.
    pub fn duplicated(&self) -> usize {
        self.shared.duplicated.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let upstream = *shared.upstream.lock().expect("not poisoned");
        let duplicate = shared.duplicate_notifications.load(Ordering::SeqCst);
        let lose = shared.lose_titled.lock().expect("not poisoned").clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            // Nothing listens upstream (a stopped server): drop the client's
            // connection, as a load balancer with no healthy backend would.
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let rewrite = match (&lose, duplicate) {
                (Some(prefix), _) => Some(Rewrite::Lose(&shared, prefix)),
                (None, true) => Some(Rewrite::Duplicate(&shared)),
                (None, false) => None,
            };
            tokio::join!(
                pipe(client_read, server_write),
                server_to_client(server_read, client_write, rewrite)
            );
        });
    }
}

async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf) {
    let _ = tokio::io::copy(&mut from, &mut to).await;
    let _ = to.shutdown().await;
}

/// Copies the server's bytes; after a `101 Switching Protocols`, optionally
/// writes each text frame that is a `notification` message twice, or loses
/// some.
async fn server_to_client(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    rewrite: Option<Rewrite<'_>>,
) {
    if let Some(rewrite) = rewrite {
        let _ = rewrite_frames(&mut from, &mut to, rewrite).await;
    }
    let _ = tokio::io::copy(&mut from, &mut to).await;
    let _ = to.shutdown().await;
}

/// Relays an upgraded connection frame by frame until it ends; returns at
/// once (having relayed what it read) when the answer is not an upgrade.
async fn rewrite_frames(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    rewrite: Rewrite<'_>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        if read_more(from, &mut buffer).await? == 0 {
            return to.write_all(&buffer).await;
        }
    };
    to.write_all(&buffer[..head_end]).await?;
    if !buffer.starts_with(b"HTTP/1.1 101") {
        return to.write_all(&buffer[head_end..]).await;
    }
    buffer.drain(..head_end);
    loop {
        while let Some(length) = frame_length(&buffer) {
            let frame: Vec<u8> = buffer.drain(..length).collect();
            match rewrite {
                Rewrite::Duplicate(shared) if is_notification(&frame) => {
                    to.write_all(&frame).await?;
                    to.write_all(&frame).await?;
                    shared.duplicated.fetch_add(1, Ordering::SeqCst);
                }
                Rewrite::Lose(shared, prefix)
                    if is_notification(&frame) && titled(&frame, prefix) =>
                {
                    shared.lost.fetch_add(1, Ordering::SeqCst);
                }
                _ => to.write_all(&frame).await?,
            }
        }
        if read_more(from, &mut buffer).await? == 0 {
            return to.write_all(&buffer).await;
        }
    }
}

async fn read_more(from: &mut OwnedReadHalf, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 8192];
    let read = from.read(&mut chunk).await?;
    buffer.extend_from_slice(&chunk[..read]);
    Ok(read)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The length of the complete WebSocket frame at the start of `buffer`
/// (RFC 6455 §5.2), or `None` while it is incomplete.
fn frame_length(buffer: &[u8]) -> Option<usize> {
    let second = *buffer.get(1)?;
    let masked = second & 0x80 != 0;
    let (header, payload) = match second & 0x7f {
        126 => (
            4,
            u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?) as usize,
        ),
        127 => (
            10,
            u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?) as usize,
        ),
        short => (2, short as usize),
    };
    let total = header + if masked { 4 } else { 0 } + payload;
    (buffer.len() >= total).then_some(total)
}

/// Whether the frame's message names a title starting with `prefix`.
fn titled(frame: &[u8], prefix: &str) -> bool {
    let needle = format!(r#""title":"{prefix}"#);
    find(frame, needle.as_bytes()).is_some()
}

/// A final, unmasked text frame carrying a `notification` message.
fn is_notification(frame: &[u8]) -> bool {
    let text_final = frame[0] == 0x81;
    let header = match frame[1] & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    text_final && frame[header..].starts_with(br#"{"type":"notification","#)
}
