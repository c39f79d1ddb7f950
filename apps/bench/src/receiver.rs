//! What each socket receives: the per-socket loop, the set of sequence
//! numbers it has seen, and the counters all sockets share.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use notification_protocol::ServerMessage;
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::clock;
use crate::dial::Socket;
use crate::latency::ShardedHistogram;

/// Metadata keys the publisher stamps on every notification it creates.
pub const SEQ_KEY: &str = "seq";
pub const SENT_AT_KEY: &str = "sent_at_ns";

/// How long a closing socket waits for the server's answer to its Close.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// One open socket: whose it is and which notifications reached it.
#[derive(Debug)]
pub struct Inbox {
    /// Index of the user in this worker.
    pub user: usize,
    /// Index of the socket in this worker (spreads histogram shards).
    pub index: usize,
    seen: Mutex<HashSet<u64>>,
}

impl Inbox {
    pub fn new(user: usize, index: usize) -> Self {
        Self {
            user,
            index,
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// The sequence numbers received so far, each once.
    pub fn seen(&self) -> MutexGuard<'_, HashSet<u64>> {
        // Only inserts happen under this lock: poisoning leaves a usable set.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counters shared by every socket of a worker.
pub struct Deliveries {
    /// First arrivals of a notification on a socket.
    pub delivered: AtomicU64,
    /// Arrivals of a notification a socket had already received.
    pub duplicated: AtomicU64,
    /// Other server messages (pong, updates, errors).
    pub other_messages: AtomicU64,
    /// Text that is not a server message, or a notification without our stamps.
    pub unparsed: AtomicU64,
    /// Request sent → frame received, first arrivals only.
    pub latency: ShardedHistogram,
    /// Sockets that ended before the tool closed them, by reason.
    lost: Mutex<BTreeMap<String, u64>>,
}

impl Default for Deliveries {
    fn default() -> Self {
        Self {
            delivered: AtomicU64::new(0),
            duplicated: AtomicU64::new(0),
            other_messages: AtomicU64::new(0),
            unparsed: AtomicU64::new(0),
            latency: ShardedHistogram::new(16),
            lost: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Deliveries {
    /// Handles one text frame, received at `received_ns`.
    pub fn on_text(&self, inbox: &Inbox, text: &str, received_ns: u64) {
        let Ok(message) = serde_json::from_str::<ServerMessage>(text) else {
            self.unparsed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let ServerMessage::Notification { data, .. } = message else {
            self.other_messages.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let stamp = |key| data.metadata.get(key).and_then(Value::as_u64);
        let (Some(seq), Some(sent_ns)) = (stamp(SEQ_KEY), stamp(SENT_AT_KEY)) else {
            self.unparsed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if inbox.seen().insert(seq) {
            self.latency
                .record(inbox.index, received_ns.saturating_sub(sent_ns));
            self.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            self.duplicated.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn lost(&self, reason: String) {
        let mut lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        *lost.entry(reason).or_default() += 1;
    }

    /// Sockets that ended before the tool closed them, by reason.
    pub fn lost_sockets(&self) -> BTreeMap<String, u64> {
        self.lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Reads `socket` until `stop` flips (then closes it politely) or the server
/// ends it (then records why). Pings are answered by tungstenite as it reads.
pub async fn receive(
    mut socket: Socket,
    inbox: &Inbox,
    deliveries: &Deliveries,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            // A dropped sender means the worker is gone: stop as well.
            _ = stop.wait_for(|stop| *stop) => break,
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    deliveries.on_text(inbox, text.as_str(), clock::now_ns());
                }
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map_or_else(|| "no code".to_owned(), |f| u16::from(f.code).to_string());
                    deliveries.lost(format!("closed by server ({code})"));
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    deliveries.lost(format!("error: {error}"));
                    return;
                }
                None => {
                    deliveries.lost("ended without close".to_owned());
                    return;
                }
            },
        }
    }
    // Best effort: the server answers Close and then ends the TCP connection
    // (so TIME_WAIT lands on its side, not on our source ports).
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        socket.send(Message::Close(None)).await.ok()?;
        while let Some(Ok(_)) = socket.next().await {}
        Some(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notification(seq: u64, sent_at_ns: u64) -> String {
        with_metadata(json!({"seq": seq, "sent_at_ns": sent_at_ns}))
    }

    fn with_metadata(metadata: Value) -> String {
        json!({
            "type": "notification",
            "data": {
                "notification_id": "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f",
                "user_id": "123e4567-e89b-12d3-a456-426614174001",
                "title": "t", "message": "m", "type": "INFO", "status": "UNREAD",
                "metadata": metadata,
                "created_at": "2025-12-31T18:00:00Z", "read_at": null, "archived_at": null
            },
            "unread_count": 1
        })
        .to_string()
    }

    #[test]
    fn a_first_arrival_is_delivered_with_its_latency_and_a_repeat_is_a_duplicate() {
        let deliveries = Deliveries::default();
        let inbox = Inbox::new(0, 0);
        deliveries.on_text(&inbox, &notification(7, 1_000_000), 4_000_000);
        deliveries.on_text(&inbox, &notification(7, 1_000_000), 9_000_000);

        assert_eq!(deliveries.delivered.load(Ordering::Relaxed), 1);
        assert_eq!(deliveries.duplicated.load(Ordering::Relaxed), 1);
        let latency = deliveries.latency.merged();
        assert_eq!(latency.len(), 1);
        assert!(latency.equivalent(latency.max(), 3_000_000));
        assert!(inbox.seen().contains(&7));
    }

    #[test]
    fn other_messages_and_foreign_text_are_counted_apart() {
        let deliveries = Deliveries::default();
        let inbox = Inbox::new(0, 0);
        deliveries.on_text(&inbox, r#"{"type":"pong","timestamp":1}"#, 0);
        deliveries.on_text(&inbox, "not json", 0);
        deliveries.on_text(&inbox, &with_metadata(json!({"sent_at_ns": 1})), 0);

        assert_eq!(deliveries.other_messages.load(Ordering::Relaxed), 1);
        assert_eq!(deliveries.unparsed.load(Ordering::Relaxed), 2);
        assert_eq!(deliveries.delivered.load(Ordering::Relaxed), 0);
    }
}
