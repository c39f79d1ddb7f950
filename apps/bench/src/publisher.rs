//! [`Publisher`]: creates notifications through the REST API (or publishes
//! to nchan) on an open-loop schedule: request i leaves at start + i / rate
//! whether or not earlier ones were answered, so a slow server shows up as
//! latency and skipped requests instead of quietly lowering the rate.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde_json::{json, Map, Value};

use crate::clock;
use crate::latency::{self, ShardedHistogram};
use crate::ledger::Ledger;
use crate::node::{Node, Target};
use crate::receiver::{SENT_AT_KEY, SEQ_KEY};
use crate::users::User;

/// The publishing side of one worker.
pub struct Publisher {
    pub client: reqwest::Client,
    pub nodes: Arc<[Node]>,
    pub users: Arc<[User]>,
    /// `Bearer <publisher token>`.
    pub authorization: HeaderValue,
    pub ledger: Arc<Ledger>,
    /// Open sockets per user: an accepted create adds this many expected arrivals.
    pub devices_per_user: Arc<[u64]>,
    /// Arrivals expected so far (for the drain wait).
    pub expected: Arc<AtomicU64>,
    pub in_flight: Arc<AtomicUsize>,
    pub max_in_flight: usize,
    /// Request sent → response read.
    pub create_latency: Arc<ShardedHistogram>,
}

/// How the schedule went.
pub struct Paced {
    /// How late each request left compared with its slot: the tool's own
    /// delay, which is not in the measured latency.
    pub schedule_lag: hdrhistogram::Histogram<u64>,
    pub seconds: f64,
}

impl Publisher {
    /// Sends `scheduled` creates at `rate` per second, then returns; answers
    /// keep arriving after that (see [`Publisher::in_flight`]).
    pub async fn run(&self, rate: f64, scheduled: usize) -> Paced {
        let mut schedule_lag = latency::empty();
        let start = Instant::now();
        let slot_ns = if rate > 0.0 { 1e9 / rate } else { 0.0 };
        let due = |seq: usize| Duration::from_nanos((seq as f64 * slot_ns) as u64);
        let mut next = 0;
        while next < scheduled {
            let elapsed = start.elapsed();
            // Everything due by now leaves now: a late wake-up (the kernel
            // ticks at 250 Hz) sends a small burst, keeping the rate.
            while next < scheduled && due(next) <= elapsed {
                latency::record(
                    &mut schedule_lag,
                    u64::try_from((elapsed - due(next)).as_nanos()).unwrap_or(u64::MAX),
                );
                self.fire(next);
                next += 1;
            }
            if next < scheduled {
                tokio::time::sleep_until((start + due(next)).into()).await;
            }
        }
        Paced {
            schedule_lag,
            seconds: start.elapsed().as_secs_f64(),
        }
    }

    /// Sends create `seq` to a random user, unless the in-flight cap is reached.
    fn fire(&self, seq: usize) {
        let user = rand::rng().random_range(0..self.users.len());
        if self.in_flight.load(Ordering::Relaxed) >= self.max_in_flight {
            self.ledger.sent(seq, user);
            self.ledger.skipped(seq);
            return;
        }
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.ledger.sent(seq, user);
        let owner = &self.users[user];
        let node = &self.nodes[owner.node];
        let target = node.target;
        let user_id = owner.id;
        let request = node.publish_url(user_id).map(|url| {
            self.client
                .post(url)
                .header(AUTHORIZATION, self.authorization.clone())
        });
        let devices = self.devices_per_user[user];
        let (ledger, expected, in_flight, create_latency) = (
            self.ledger.clone(),
            self.expected.clone(),
            self.in_flight.clone(),
            self.create_latency.clone(),
        );
        tokio::spawn(async move {
            let sent_ns = clock::now_ns();
            let outcome = match request {
                Ok(request) => {
                    let body = publish_body(target, user_id, seq as u64, sent_ns);
                    match request.json(&body).send().await {
                        // Read the body so the connection goes back to the pool.
                        Ok(response) if target.accepted(response.status()) => {
                            response.bytes().await.map(drop).map_err(|e| describe(&e))
                        }
                        Ok(response) => Err(format!("http {}", response.status().as_u16())),
                        Err(error) => Err(describe(&error)),
                    }
                }
                Err(error) => Err(format!("publish URL: {error}")),
            };
            create_latency.record(seq, clock::now_ns().saturating_sub(sent_ns));
            if outcome.is_ok() {
                expected.fetch_add(devices, Ordering::Relaxed);
            }
            ledger.settled(seq, outcome);
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// What is published for create `seq`, stamped with the sequence number and
/// the send time on this process's clock: a create request for the service;
/// for nchan, which forwards the body as it is, the frame the service would
/// send for it (same envelope, similar size), so one receiver reads both.
fn publish_body(target: Target, user_id: uuid::Uuid, seq: u64, sent_ns: u64) -> Value {
    let mut metadata = Map::new();
    metadata.insert(SEQ_KEY.to_owned(), Value::from(seq));
    metadata.insert(SENT_AT_KEY.to_owned(), Value::from(sent_ns));
    let title = "Benchmark";
    let message = format!("Notification {seq} of the load test");
    match target {
        Target::Service => json!({
            "user_id": user_id,
            "title": title,
            "message": message,
            "metadata": metadata,
        }),
        Target::Nchan => json!({
            "type": "notification",
            "data": {
                "notification_id": uuid::Uuid::new_v4(),
                "user_id": user_id,
                "title": title,
                "message": message,
                "type": "INFO",
                "status": "UNREAD",
                "metadata": metadata,
                "created_at": "2026-01-01T00:00:00Z",
                "read_at": null,
                "archived_at": null
            },
            "unread_count": seq + 1
        }),
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".to_owned()
    } else if error.is_connect() {
        "connect failed".to_owned()
    } else {
        format!("request failed: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiver::{Deliveries, Inbox};
    use notification_protocol::CreateNotificationRequest;

    #[test]
    fn the_create_request_carries_the_stamps_the_receiver_reads() {
        let user = uuid::Uuid::new_v4();
        let body = publish_body(Target::Service, user, 42, 7_000);
        let request: CreateNotificationRequest = serde_json::from_value(body).unwrap();
        assert_eq!(request.user_id, user);
        let metadata = request.metadata.unwrap();
        assert_eq!(metadata[SEQ_KEY], 42);
        assert_eq!(metadata[SENT_AT_KEY], 7_000);
    }

    #[test]
    fn an_nchan_message_is_received_as_a_delivered_notification() {
        let body = publish_body(Target::Nchan, uuid::Uuid::new_v4(), 42, 7_000);
        let deliveries = Deliveries::default();
        let inbox = Inbox::new(0, 0);
        deliveries.on_text(&inbox, &body.to_string(), 9_000);
        assert_eq!(deliveries.delivered.load(Ordering::Relaxed), 1);
        assert!(inbox.seen().contains(&42));
    }
}
