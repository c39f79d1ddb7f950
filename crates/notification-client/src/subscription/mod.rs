//! The real-time subscription: one WebSocket kept open for as long as the
//! [`Subscription`] lives.
//!
//! - `events`: what the application sees ([`Event`]).
//! - `driver`: the reconnect loop: token checks, back-off, resume point.
//! - `socket`: one connection attempt (the upgrade and its refusals).
//! - `session`: one open connection: messages in `seq` order, gaps healed
//!   through the changes feed, in-band token refresh.

mod driver;
mod events;
mod session;
mod socket;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::client::NotificationClient;

pub use events::{DisconnectReason, Event};

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartFrom {
    /// The user's latest change when the subscription starts (read over REST).
    Now,
    /// After this `seq`.
    Seq(u64),
    /// After the change that created this notification (`?since=`).
    Notification(Uuid),
}

/// A live feed of the user's changes, yielded as [`Event`]s.
///
/// Guarantees (docs/client.md):
/// - every change of the user after the subscription's starting point is
///   yielded once, in `seq` order, with no gap, across reconnects
///   (`?since_seq=` the last one yielded), server restarts and token changes;
///   a gap in what the socket carries (a `seq` more than one ahead) is filled
///   from the changes feed (`GET /api/v1/changes`) before anything after it;
/// - when the server no longer keeps the changes after that point,
///   [`Event::Resync`] tells the application to reload, and the feed goes on
///   from there;
/// - a refused token stops the retries: [`Event::TokenRequired`] is yielded
///   and nothing is attempted until [`set_token`](Self::set_token) (or the
///   configured provider) supplies another.
///
/// It runs as a Tokio task; [`close`](Self::close) or dropping the
/// subscription stops it, and an open socket is closed with 1000 (a clean
/// close the server sees, not a 1006). Read it with [`next`](Self::next) or as a [`Stream`].
#[derive(Debug)]
pub struct Subscription {
    events: mpsc::Receiver<Event>,
    client: NotificationClient,
    /// The last `seq` yielded, kept by the driver.
    seq: tokio::sync::watch::Receiver<Option<u64>>,
    /// The driver; `None` once [`close`](Self::close) took it.
    task: Option<JoinHandle<()>>,
}

impl Subscription {
    pub(crate) fn start(client: NotificationClient, from: StartFrom) -> Self {
        let (sender, events) = mpsc::channel(client.config().event_buffer.max(1));
        let (seq_sender, seq) = tokio::sync::watch::channel(match from {
            StartFrom::Seq(seq) => Some(seq),
            StartFrom::Now | StartFrom::Notification(_) => None,
        });
        let driver = driver::Driver::new(client.clone(), sender, seq_sender, from);
        let task = tokio::spawn(driver.run());
        Self {
            events,
            client,
            seq,
            task: Some(task),
        }
    }

    /// The next event; `None` once the subscription has stopped (after
    /// [`Event::Stopped`]).
    pub async fn next(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Stops the subscription: an open socket is closed with 1000 and this
    /// returns once the close handshake is done (or the server did not
    /// answer within `connect_timeout`).
    pub async fn close(mut self) {
        // The driver notices the closed channel wherever it waits.
        self.events.close();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Supplies a new token: after [`Event::TokenRequired`] the subscription
    /// reconnects with it; while connected it is sent in-band and the socket
    /// stays open. REST calls of the client use it too.
    pub fn set_token(&self, token: impl Into<String>) {
        self.client.set_token(token);
    }

    /// The `seq` of the last change yielded (or of the starting point), once
    /// known: keep it to resume with [`NotificationClient::subscribe_after_seq`].
    pub fn seq(&self) -> Option<u64> {
        *self.seq.borrow()
    }

    /// The client this subscription belongs to (for REST calls).
    pub fn client(&self) -> &NotificationClient {
        &self.client
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Not aborted: dropping `events` tells the driver, which closes an
        // open socket with 1000 and ends (every wait of it watches for this).
        self.events.close();
    }
}
