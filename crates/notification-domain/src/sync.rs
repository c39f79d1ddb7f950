//! The per-user change sequence (contract §7): every change to a user's
//! inbox takes the user's next number, and the change log answers what came
//! after a number.

use crate::events::DomainEvent;

/// Where a user's inbox stood right after one of its changes (or now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InboxPosition {
    /// The number of the user's latest change (0 before the first).
    pub seq: u64,
    /// The user's unread count right after that change.
    pub unread_count: u64,
}

/// What the change log holds after a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangesAfter {
    /// Every change with `after < seq`, in seq order, at most `limit` of them
    /// (no gap: seq after+1, after+2, ...). `latest` = the user's position
    /// now (read in the same snapshot).
    Kept {
        changes: Vec<DomainEvent>,
        latest: InboxPosition,
    },
    /// The changes right after `after` are no longer kept (pruned after
    /// `SYNC_LOG_RETENTION`), or `after` is beyond the latest seq: the client
    /// must reload (`resync`).
    Gone { latest: InboxPosition },
}

impl ChangesAfter {
    /// The user's position now.
    pub fn latest(&self) -> InboxPosition {
        match self {
            Self::Kept { latest, .. } | Self::Gone { latest } => *latest,
        }
    }
}

/// The most changes one read of the log returns.
pub const MAX_CHANGES_PER_READ: u32 = 500;
