//! [`Mailbox`]: the one queue of a live connection.
//!
//! A `Mutex<VecDeque>` plus a `Notify` rather than a tokio mpsc: a tokio
//! channel allocates a 32-slot block up front whatever its capacity, while an
//! empty `VecDeque` allocates nothing, and idle sockets are the common case.
//! Pushers never wait, so one slow client never slows anyone else. The hub
//! marks mailboxes to close their connections for shutdown (at once) or for
//! a resync (after what was already queued).
//!
//! A mailbox that fills up does not close its connection by itself: it
//! drops what it held, says it lagged and refuses pushes until its loop has
//! taken that, and the connection reads what it missed from the change log
//! at its own pace (every change has its `seq`, so nothing is lost or
//! repeated) unless it has fallen too far behind (see `conversation`). A
//! burst (a batch of 1000 notifications for one user) and a long replay are
//! not slow clients. Memory stays bounded by the capacity whatever the
//! client does.
//!
//! While a connection replays from the change log its mailbox is held: what
//! is pushed meanwhile waits, to follow the replay, and a held mailbox that
//! fills up lags the same way.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use notification_application::realtime::SharedText;
use tokio::sync::Notify;

/// A change's message, with its place in the user's change sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) seq: u64,
    pub(crate) text: SharedText,
}

#[cfg(test)]
impl From<&'static str> for Change {
    fn from(text: &'static str) -> Self {
        Self {
            seq: 0,
            text: text.into(),
        }
    }
}

/// What the connection loop should do next, in order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MailboxEvent {
    /// The hub is shutting down: close with 1001.
    ShutDown,
    /// The next message to write.
    Message(Change),
    /// The mailbox filled up: what it held is gone; read the changes after
    /// the last one sent from the log (or close with 1013 when the
    /// connection does not know that one yet).
    Lagged,
    /// Events may have been missed and everything queued before was written:
    /// close with 1012 so the client resumes with `since`.
    Resync,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Change>,
    /// Filled up; the queue was dropped.
    lagged: bool,
    /// The highest `seq` pushed, taken or not: how far the user's changes
    /// have gone, for a connection to tell how far behind it is.
    newest: u64,
    shut_down: bool,
    /// Takes no more messages; closes once the queue is written.
    resync: bool,
    /// See [`Mailbox::hold`].
    held: bool,
}

/// The bounded queue between pushers (any thread) and one connection loop.
#[derive(Debug)]
pub(crate) struct Mailbox {
    capacity: usize,
    state: Mutex<State>,
    wakeup: Notify,
}

impl Mailbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State::default()),
            wakeup: Notify::new(),
        }
    }

    /// Queues `change` without waiting. Returns whether it was accepted; a
    /// full queue drops what it held and marks the mailbox lagged (the
    /// connection reads what it missed from the log).
    pub(crate) fn push(&self, change: &Change) -> bool {
        let accepted = {
            let mut state = self.lock();
            state.newest = state.newest.max(change.seq);
            if state.shut_down || state.resync || state.lagged {
                return false;
            }
            if state.queue.len() >= self.capacity {
                state.lagged = true;
                state.queue = VecDeque::new();
                false
            } else {
                state.queue.push_back(change.clone());
                true
            }
        };
        // One waiter at most (the connection loop); the stored permit covers a
        // loop that is not waiting right now.
        self.wakeup.notify_one();
        accepted
    }

    /// Tells the connection loop to close for shutdown.
    pub(crate) fn shut_down(&self) {
        self.lock().shut_down = true;
        self.wakeup.notify_one();
    }

    /// Tells the connection loop to write what is queued, then close for a
    /// resync; later pushes are refused (the client gets them through
    /// `since`, and a busy user cannot keep the connection from closing).
    /// Returns `false` when the connection was already closing for any reason.
    pub(crate) fn resync(&self) -> bool {
        {
            let mut state = self.lock();
            if state.shut_down || state.resync {
                return false;
            }
            state.resync = true;
        }
        self.wakeup.notify_one();
        true
    }

    /// Waits for the next event. Cancel-safe: nothing is taken from the queue
    /// unless this returns, and the state is checked before every wait.
    pub(crate) async fn next(&self) -> MailboxEvent {
        loop {
            {
                let mut state = self.lock();
                if state.shut_down {
                    return MailboxEvent::ShutDown;
                } else if !state.held {
                    if state.lagged {
                        // Taken once: the connection holds the mailbox while
                        // it reads the log.
                        state.lagged = false;
                        return MailboxEvent::Lagged;
                    } else if let Some(change) = state.queue.pop_front() {
                        return MailboxEvent::Message(change);
                    } else if state.resync {
                        return MailboxEvent::Resync;
                    }
                }
            }
            self.wakeup.notified().await;
        }
    }

    /// While held, `next` gives only what closes the connection at once
    /// (shutdown) and leaves messages (and a resync) queued: a replay holds
    /// its mailbox so that what is pushed meanwhile follows it. Pushes are
    /// still accepted and counted against the capacity.
    pub(crate) fn hold(&self, held: bool) {
        self.lock().held = held;
        self.wakeup.notify_one();
    }

    /// The highest `seq` ever pushed, whether it was taken or not.
    pub(crate) fn newest_seq(&self) -> u64 {
        self.lock().newest
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave `State` half-changed (every update is
        // a single field write or queue operation), so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures_util::FutureExt;

    /// The event already waiting, without waiting.
    fn pending(mailbox: &Mailbox) -> Option<MailboxEvent> {
        mailbox.next().now_or_never()
    }

    #[test]
    fn messages_come_out_in_order_and_then_nothing_is_pending() {
        let mailbox = Mailbox::new(4);
        assert!(mailbox.push(&"a".into()));
        assert!(mailbox.push(&"b".into()));
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Message("a".into())));
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Message("b".into())));
        assert_eq!(pending(&mailbox), None);
    }

    #[test]
    fn a_full_mailbox_lags_drops_its_queue_and_refuses_more_until_told() {
        let mailbox = Mailbox::new(2);
        assert!(mailbox.push(&"a".into()));
        assert!(mailbox.push(&"b".into()));
        assert!(!mailbox.push(&"c".into()));
        assert_eq!(mailbox.len(), 0, "bounded: what it held is gone");
        assert!(!mailbox.push(&"d".into()));
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Lagged));
        assert_eq!(pending(&mailbox), None, "said once");
        assert!(mailbox.push(&"e".into()), "takes pushes again once told");
    }

    #[test]
    fn the_newest_seq_counts_refused_pushes_too() {
        let mailbox = Mailbox::new(1);
        let change = |seq| Change {
            seq,
            text: "x".into(),
        };
        assert!(mailbox.push(&change(3)));
        assert!(!mailbox.push(&change(4)));
        assert!(!mailbox.push(&change(9)));
        assert!(!mailbox.push(&change(5)));
        assert_eq!(mailbox.newest_seq(), 9);
    }

    #[test]
    fn shutdown_comes_before_queued_messages() {
        let mailbox = Mailbox::new(2);
        assert!(mailbox.push(&"a".into()));
        mailbox.shut_down();
        assert_eq!(pending(&mailbox), Some(MailboxEvent::ShutDown));
        assert!(!mailbox.push(&"b".into()));
    }

    #[test]
    fn a_resync_comes_after_what_was_queued_and_refuses_later_pushes() {
        let mailbox = Mailbox::new(4);
        assert!(mailbox.push(&"a".into()));
        assert!(mailbox.resync());
        assert!(!mailbox.push(&"b".into()));
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Message("a".into())));
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Resync));
        assert_eq!(
            pending(&mailbox),
            Some(MailboxEvent::Resync),
            "it stays until the loop closes"
        );
    }

    #[test]
    fn a_mailbox_already_closing_is_not_resynced() {
        let shut = Mailbox::new(4);
        shut.shut_down();
        assert!(!shut.resync());
        assert_eq!(pending(&shut), Some(MailboxEvent::ShutDown));

        let resyncing = Mailbox::new(4);
        assert!(resyncing.resync());
        assert!(!resyncing.resync(), "counted once");
    }

    #[test]
    fn shutdown_comes_before_a_resync() {
        let mailbox = Mailbox::new(4);
        assert!(mailbox.resync());
        mailbox.shut_down();
        assert_eq!(pending(&mailbox), Some(MailboxEvent::ShutDown));
    }

    #[test]
    fn a_held_mailbox_keeps_messages_and_resyncs_but_not_shutdown() {
        let mailbox = Mailbox::new(1);
        mailbox.hold(true);
        assert!(mailbox.push(&"a".into()));
        assert!(mailbox.resync());
        assert_eq!(pending(&mailbox), None, "neither a message nor a resync");
        mailbox.hold(false);
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Message("a".into())));
        mailbox.hold(true);
        mailbox.shut_down();
        assert_eq!(pending(&mailbox), Some(MailboxEvent::ShutDown));
    }

    #[test]
    fn a_held_mailbox_that_fills_up_says_it_lagged_once_released() {
        let mailbox = Mailbox::new(1);
        mailbox.hold(true);
        assert!(mailbox.push(&"a".into()));
        assert!(!mailbox.push(&"b".into()));
        assert!(
            !mailbox.push(&"c".into()),
            "nothing more until read from the log"
        );
        assert_eq!(pending(&mailbox), None, "held");
        mailbox.hold(false);
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Lagged));
        assert_eq!(mailbox.len(), 0, "what it held is gone");
        mailbox.hold(true);
        assert!(mailbox.push(&"d".into()), "takes pushes again once told");
        mailbox.hold(false);
        assert_eq!(pending(&mailbox), Some(MailboxEvent::Message("d".into())));
    }

    #[tokio::test]
    async fn a_waiting_loop_wakes_on_a_resync_from_another_task() {
        let mailbox = std::sync::Arc::new(Mailbox::new(2));
        let hub = std::sync::Arc::clone(&mailbox);
        let resync = tokio::spawn(async move { hub.resync() });
        assert_eq!(mailbox.next().await, MailboxEvent::Resync);
        assert!(resync.await.unwrap());
    }

    #[tokio::test]
    async fn a_waiting_loop_wakes_on_a_push_from_another_task() {
        let mailbox = std::sync::Arc::new(Mailbox::new(2));
        let pusher = std::sync::Arc::clone(&mailbox);
        let push = tokio::spawn(async move { pusher.push(&"late".into()) });
        assert_eq!(mailbox.next().await, MailboxEvent::Message("late".into()));
        assert!(push.await.unwrap());
    }
}
