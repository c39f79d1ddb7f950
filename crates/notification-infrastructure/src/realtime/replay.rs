//! [`Replay`]: what a connection reads from the change log instead of
//! receiving it live, as steps the conversation takes one at a time inside
//! its `select!` (so shutdown, pings and client frames are heard while it
//! runs, and a replay of any length goes at the socket's pace: one page of
//! the log in memory at a time).
//!
//! A connection replays at its start (`?since_seq=`, `?since=`, or only its
//! starting point when the user's stream on this node is not anchored yet)
//! and whenever it finds a gap between what it sent and what its mailbox
//! holds. The connection is registered in the hub before the replay, so
//! every change made meanwhile is queued behind it; the replay reads up to
//! the user's latest `seq` as of its first read, and the connection then drops
//! what its mailbox holds at or below that (contract §7: none missing, none
//! repeated).

use std::collections::VecDeque;

use notification_application::ServiceError;
use notification_domain::{ChangesAfter, DomainEvent, InboxPosition, NotificationId, UserId};
use notification_protocol::{ErrorCode, ServerMessage};

use crate::realtime::healer::Healer;

/// Changes read per query: a replay of millions of changes never holds more
/// than this many in memory.
pub const REPLAY_PAGE: u32 = 200;

/// Where a replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// After this `seq` (`?since_seq=`, or a gap on a live connection).
    /// `v1`: the client asked with `?since=` and knows no `resync`.
    After { seq: u64, v1: bool },
    /// `?since=<id>`: after the change that created it.
    Notification(NotificationId),
    /// Nothing to replay: only where the user's changes stand now.
    Now,
}

/// The next thing the conversation does for the replay.
#[derive(Debug)]
pub(crate) enum ReplayStep {
    /// Write this message, then ask again. `seq`: the place in the user's
    /// sequence the connection has reached once it is written.
    Send {
        message: ServerMessage,
        seq: Option<u64>,
    },
    /// Nothing more to replay: the connection has every change up to `at`;
    /// `sent` changes were replayed.
    Finished { at: u64, sent: usize },
    /// Storage failed: close with 1011, the client retries.
    Failed(ServiceError),
}

enum State {
    Lookup(Start),
    /// Sending pages; `after` is the last `seq` sent, `target` the user's
    /// latest `seq` at the first read.
    Pages {
        after: u64,
        target: u64,
        page: VecDeque<DomainEvent>,
    },
    Finish {
        at: u64,
    },
    Done,
}

/// The replay of one connection.
pub(crate) struct Replay {
    healer: Healer,
    user_id: UserId,
    state: State,
    sent: usize,
}

impl Replay {
    pub(crate) fn new(healer: Healer, user_id: UserId, start: Start) -> Self {
        Self {
            healer,
            user_id,
            state: State::Lookup(start),
            sent: 0,
        }
    }

    /// The next step. Cancel-safe: the state only changes once a storage
    /// call has returned, so a step dropped mid-query is simply asked again.
    ///
    /// Replayed messages are the very ones sent live (same `seq`,
    /// `unread_count` and `data` as at that change). When the log no longer
    /// holds the changes after the starting point, or the start is beyond the
    /// latest `seq`, a `resync` comes instead (`unknown_since` for `since`).
    pub(crate) async fn next(&mut self) -> ReplayStep {
        loop {
            let service = self.healer.service();
            match &mut self.state {
                State::Done => {
                    return ReplayStep::Finished {
                        at: 0,
                        sent: self.sent,
                    }
                }
                State::Finish { at } => {
                    let at = *at;
                    self.state = State::Done;
                    return ReplayStep::Finished {
                        at,
                        sent: self.sent,
                    };
                }
                State::Lookup(Start::Now) => match service.unread_count(self.user_id).await {
                    Ok(position) => {
                        self.anchor(position.seq);
                        self.state = State::Finish { at: position.seq };
                    }
                    Err(error) => return ReplayStep::Failed(error),
                },
                State::Lookup(Start::Notification(id)) => {
                    match service.creation_seq(self.user_id, *id).await {
                        Ok(Some(seq)) => {
                            self.state = State::Lookup(Start::After { seq, v1: true });
                        }
                        Ok(None) => match service.unread_count(self.user_id).await {
                            // Where live messages start is fixed before the
                            // client hears `unknown_since`: whatever it does
                            // after that (a reload, a create) comes live.
                            Ok(position) => return self.unknown_since(position),
                            Err(error) => return ReplayStep::Failed(error),
                        },
                        Err(error) => return ReplayStep::Failed(error),
                    }
                }
                State::Lookup(Start::After { seq, v1 }) => {
                    let (after, v1) = (*seq, *v1);
                    match service.changes(self.user_id, after, REPLAY_PAGE).await {
                        Ok(ChangesAfter::Kept { changes, latest }) => {
                            self.anchor(latest.seq);
                            self.state = State::Pages {
                                after,
                                target: latest.seq,
                                page: changes.into(),
                            };
                        }
                        Ok(ChangesAfter::Gone { latest }) if v1 => {
                            return self.unknown_since(latest)
                        }
                        Ok(ChangesAfter::Gone { latest }) => return self.resync(latest),
                        Err(error) => return ReplayStep::Failed(error),
                    }
                }
                State::Pages {
                    after,
                    target,
                    page,
                } => {
                    if let Some(change) = page.pop_front() {
                        let seq = change.seq();
                        if seq <= *after {
                            continue;
                        }
                        *after = seq;
                        self.sent += 1;
                        return send(ServerMessage::from(&change), Some(seq));
                    }
                    if *after >= *target {
                        self.state = State::Finish { at: *after };
                        continue;
                    }
                    match service.changes(self.user_id, *after, REPLAY_PAGE).await {
                        Ok(ChangesAfter::Kept { changes, .. }) if changes.is_empty() => {
                            // The log has nothing up to the target (it cannot
                            // happen while it keeps every change): go on from
                            // the target rather than read in a loop.
                            self.state = State::Finish { at: *target };
                        }
                        Ok(ChangesAfter::Kept { changes, .. }) => *page = changes.into(),
                        // Pruned while the replay ran.
                        Ok(ChangesAfter::Gone { latest }) => return self.resync(latest),
                        Err(error) => return ReplayStep::Failed(error),
                    }
                }
            }
        }
    }

    /// `since` names nothing the log knows: live messages follow from
    /// `latest` on (a v1 client reloads the inbox).
    fn unknown_since(&mut self, latest: InboxPosition) -> ReplayStep {
        self.anchor(latest.seq);
        self.state = State::Finish { at: latest.seq };
        send(unknown_since(), None)
    }

    /// The changes after the start are not kept (or the start is beyond the
    /// latest): the client reloads and goes on from `latest`.
    fn resync(&mut self, latest: InboxPosition) -> ReplayStep {
        self.anchor(latest.seq);
        self.state = State::Finish { at: latest.seq };
        send(
            ServerMessage::Resync {
                seq: latest.seq,
                unread_count: latest.unread_count,
            },
            Some(latest.seq),
        )
    }
}

impl Replay {
    /// The connection will have every change up to `seq` (read after it
    /// registered): the user's stream here can go on from it, and what is
    /// pushed after it waits in the (held) mailbox.
    fn anchor(&self, seq: u64) {
        let handed = self.healer.hub().anchor(self.user_id, seq);
        self.healer.heal(self.user_id, handed);
    }
}

fn send(message: ServerMessage, seq: Option<u64>) -> ReplayStep {
    ReplayStep::Send { message, seq }
}

/// Tells the client that `since` names none of its notifications the log
/// still knows; the live stream follows.
fn unknown_since() -> ServerMessage {
    ServerMessage::error(
        ErrorCode::UnknownSince,
        "`since` is not one of your notifications (or is no longer in the change log); live notifications follow, reload the inbox for older ones",
    )
}
