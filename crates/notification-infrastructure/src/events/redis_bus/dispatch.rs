//! The bounded hand-over between the subscription task, which must keep
//! reading Redis, and this node's subscribers, which may fall behind.
//!
//! redis-rs queues every message of a pub/sub connection without bound until
//! it is read. The subscription task therefore only moves each message into a
//! queue of [`RedisBusConfig::receive_buffer`](super::RedisBusConfig::receive_buffer)
//! entries and reads on; a second task ([`run`]) decodes and dispatches. When
//! the queue is full the message is dropped, counted, and the loss becomes a
//! gap: the subscribers' `on_gap` is called before the next thing they hear,
//! so the sockets resume from storage with `since` instead of the node
//! holding an ever-growing backlog.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::subscription::Shared;
use crate::events::wire;

/// One thing heard on the channel, in order.
#[derive(Debug)]
pub(super) enum Heard {
    /// A message's payload, not yet decoded.
    Message(Vec<u8>),
    /// The subscription was lost and is back: events may have been missed.
    Resubscribed,
}

/// The sending end, owned by the subscription task.
pub(super) struct Handover {
    queue: mpsc::Sender<Heard>,
    overflow: Arc<Overflow>,
}

/// What was dropped because the queue was full.
#[derive(Debug, Default)]
pub(super) struct Overflow {
    /// Set on a drop, taken by the dispatcher: a gap to announce.
    pending_gap: AtomicBool,
    dropped: AtomicU64,
}

impl Overflow {
    /// Messages dropped since start.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A queue of `capacity` entries between the two tasks.
pub(super) fn handover(capacity: usize) -> (Handover, mpsc::Receiver<Heard>, Arc<Overflow>) {
    let (queue, receiver) = mpsc::channel(capacity);
    let overflow = Arc::new(Overflow::default());
    let handover = Handover {
        queue,
        overflow: Arc::clone(&overflow),
    };
    (handover, receiver, overflow)
}

impl Handover {
    /// Queues `heard` without waiting; when the queue is full it is dropped
    /// and a gap is pending instead (a lost resubscription is a gap anyway).
    pub(super) fn offer(&self, heard: Heard) {
        if let Err(mpsc::error::TrySendError::Full(heard)) = self.queue.try_send(heard) {
            if matches!(heard, Heard::Message(_)) {
                self.overflow.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("event_bus_events_dropped_total").increment(1);
            }
            if !self.overflow.pending_gap.swap(true, Ordering::AcqRel) {
                tracing::warn!(
                    "event bus receive buffer full: this node's subscribers fall behind; \
                     dropping events and telling the sockets to resume"
                );
            }
        }
        // Closed: the dispatcher stopped, so nobody listens any more.
    }
}

/// Hands what is queued to `shared`'s subscribers until `stop` is cancelled
/// or the subscription task is gone.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut queue: mpsc::Receiver<Heard>,
    overflow: Arc<Overflow>,
    stop: CancellationToken,
) {
    loop {
        let heard = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            heard = queue.recv() => match heard {
                Some(heard) => heard,
                None => break,
            },
        };
        // A drop happened while this entry waited: the gap comes first, so
        // the sockets resume before they hear anything newer.
        let overflowed = overflow.pending_gap.swap(false, Ordering::AcqRel);
        match heard {
            Heard::Resubscribed => shared.subscribers().dispatch_gap().await,
            Heard::Message(payload) => {
                if overflowed {
                    shared.subscribers().dispatch_gap().await;
                }
                deliver(&shared, &payload).await;
            }
        }
    }
}

/// Decodes one message and hands it to every local subscriber in turn.
async fn deliver(shared: &Shared, payload: &[u8]) {
    metrics::counter!("event_bus_messages_received_total").increment(1);
    let event = match wire::decode(payload) {
        Ok(event) => event,
        Err(error) => {
            metrics::counter!("event_bus_decode_failures_total").increment(1);
            // The payload itself is not logged: it holds users' content.
            tracing::error!(
                bytes = payload.len(),
                %error,
                "skipping an event bus message this node cannot decode"
            );
            return;
        }
    };
    shared.subscribers().dispatch(&event).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_counts_and_leaves_a_gap_pending() {
        let (handover, mut queue, overflow) = handover(2);
        for i in 0..5u8 {
            handover.offer(Heard::Message(vec![i]));
        }

        assert_eq!(overflow.dropped(), 3);
        assert!(overflow.pending_gap.load(Ordering::Acquire));
        let kept: Vec<_> = std::iter::from_fn(|| queue.try_recv().ok()).collect();
        assert!(
            matches!(kept.as_slice(), [Heard::Message(a), Heard::Message(b)] if a == &[0] && b == &[1]),
            "{kept:?}"
        );
    }
}
