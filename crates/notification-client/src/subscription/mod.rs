//! The real-time subscription: one WebSocket kept open for as long as the
//! [`Subscription`] lives.
//!
//! - `events`: what the application sees ([`Event`]).
//! - `driver`: the reconnect loop: token checks, back-off, resume point.
//! - `socket`: one connection attempt (the upgrade and its refusals).
//! - `session`: one open connection: messages, in-band token refresh.
//! - `catch_up`: the REST reads that fill what a socket cannot (the
//!   "from now" anchor, and the gap after an `unknown_since`).

mod catch_up;
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

/// A live feed of the user's notifications, yielded as [`Event`]s.
///
/// Guarantees (docs/client.md):
/// - every notification created after the subscription's starting point is
///   yielded, in creation order, across reconnects (`?since=` the newest id
///   seen), server restarts and token changes;
/// - none is yielded twice (ids are remembered in a bounded window);
/// - a refused token stops the retries: [`Event::TokenRequired`] is yielded
///   and nothing is attempted until [`set_token`](Self::set_token) (or the
///   configured provider) supplies another.
///
/// It runs as a Tokio task; dropping the subscription stops it and closes the
/// socket. Read it with [`next`](Self::next) or as a [`Stream`].
#[derive(Debug)]
pub struct Subscription {
    events: mpsc::Receiver<Event>,
    client: NotificationClient,
    task: JoinHandle<()>,
}

impl Subscription {
    pub(crate) fn start(client: NotificationClient, since: Option<Uuid>) -> Self {
        let (sender, events) = mpsc::channel(client.config().event_buffer.max(1));
        let task = tokio::spawn(driver::Driver::new(client.clone(), sender, since).run());
        Self {
            events,
            client,
            task,
        }
    }

    /// The next event; `None` once the subscription has stopped (after
    /// [`Event::Stopped`]).
    pub async fn next(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Supplies a new token: after [`Event::TokenRequired`] the subscription
    /// reconnects with it; while connected it is sent in-band and the socket
    /// stays open. REST calls of the client use it too.
    pub fn set_token(&self, token: impl Into<String>) {
        self.client.set_token(token);
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
        self.task.abort();
    }
}
