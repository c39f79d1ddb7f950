//! [`Replay`]: `?since=<notification_id>`, what a reconnecting client missed,
//! as a series of steps the conversation takes one at a time inside its
//! `select!` (so shutdown, overflow, pings and client frames are heard while
//! it runs).
//!
//! The connection's slot in the hub is taken before the replay starts, so a
//! notification created while the replay runs is queued for the live stream:
//! it may arrive twice (once replayed, once live), never not at all. Clients
//! de-duplicate by `notification_id` (contract §5: at least once).

use std::collections::VecDeque;
use std::time::Duration;

use notification_application::{NotificationService, ServiceError};
use notification_domain::{Notification, NotificationId, UserId};
use notification_protocol::{ErrorCode, NotificationResource, ServerMessage};

/// Rows read per query: a replay of millions of rows never holds more than
/// this many in memory.
pub const REPLAY_PAGE: u32 = 200;

/// Ids are given before the insert commits, so under concurrent creates for
/// one user a notification may become visible after a newer one that the
/// client already saw. Replaying from this long before `since` covers such a
/// late commit; the client de-duplicates the few repeats by id.
pub const REPLAY_GRACE: Duration = Duration::from_secs(5);

/// The next thing the conversation does for the replay.
#[derive(Debug)]
pub(crate) enum ReplayStep {
    /// Write this message, then ask again.
    Send(ServerMessage),
    /// Nothing more to replay; `sent` notifications were replayed.
    Finished { sent: usize },
    /// Storage failed: close with 1011, the client retries with the same `since`.
    Failed(ServiceError),
}

enum State {
    /// `since` not looked up yet.
    Lookup,
    /// Sending pages; `after` is the last id read, `more` whether the last
    /// page was full.
    Pages {
        unread_count: u64,
        after: NotificationId,
        page: VecDeque<Notification>,
        more: bool,
    },
    Done,
}

/// The replay of one connection.
pub(crate) struct Replay {
    service: NotificationService,
    user_id: UserId,
    since: NotificationId,
    state: State,
    sent: usize,
}

impl Replay {
    pub(crate) fn new(
        service: NotificationService,
        user_id: UserId,
        since: NotificationId,
    ) -> Self {
        Self {
            service,
            user_id,
            since,
            state: State::Lookup,
            sent: 0,
        }
    }

    /// The next step. Cancel-safe: the state only changes once a storage
    /// call has returned, so a step dropped mid-query is simply asked again.
    ///
    /// Every notification of the user created after `since` comes out, oldest
    /// first, preceded by those of the [`REPLAY_GRACE`] before it (except
    /// `since` itself). Each carries the user's unread count as of the start
    /// of the replay (the count right after each old change is not kept). A
    /// `since` that names none of the user's notifications gets an
    /// `unknown_since` error message instead.
    pub(crate) async fn next(&mut self) -> ReplayStep {
        loop {
            match &mut self.state {
                State::Done => return ReplayStep::Finished { sent: self.sent },
                State::Lookup => match self.service.get(self.user_id, self.since).await {
                    Ok(_) => match self.service.unread_count(self.user_id).await {
                        Ok(position) => {
                            self.state = State::Pages {
                                unread_count: position.unread_count,
                                after: self.since.earlier_by(REPLAY_GRACE).unwrap_or(self.since),
                                page: VecDeque::new(),
                                more: true,
                            };
                        }
                        Err(error) => return ReplayStep::Failed(error),
                    },
                    Err(ServiceError::NotFound) => {
                        self.state = State::Done;
                        return ReplayStep::Send(unknown_since());
                    }
                    Err(error) => return ReplayStep::Failed(error),
                },
                State::Pages {
                    unread_count,
                    after,
                    page,
                    more,
                } => {
                    if let Some(notification) = page.pop_front() {
                        self.sent += 1;
                        return ReplayStep::Send(ServerMessage::Notification {
                            data: NotificationResource::from(&notification),
                            unread_count: *unread_count,
                            // Replaced by the change log's replay (sync-realtime).
                            seq: 0,
                        });
                    }
                    if !*more {
                        self.state = State::Done;
                        continue;
                    }
                    let read = self
                        .service
                        .list_after(self.user_id, *after, REPLAY_PAGE)
                        .await;
                    match read {
                        Ok(rows) => {
                            *more = rows.len() == REPLAY_PAGE as usize;
                            if let Some(last) = rows.last() {
                                *after = last.id();
                            }
                            let since = self.since;
                            page.extend(rows.into_iter().filter(|n| n.id() != since));
                        }
                        Err(error) => return ReplayStep::Failed(error),
                    }
                }
            }
        }
    }
}

/// Tells the client that `since` names none of its notifications; the live
/// stream follows.
fn unknown_since() -> ServerMessage {
    ServerMessage::error(
        ErrorCode::UnknownSince,
        "`since` is not one of your notifications; live notifications follow, reload the inbox for older ones",
    )
}
