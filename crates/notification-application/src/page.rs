//! Keyset pagination of a user's notifications.

use notification_domain::{Notification, NotificationId, StatusFilter};

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size when the client does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// What a client asks for: which notifications, from where, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub filter: StatusFilter,
    /// Continue after this id (the previous page's `next_cursor`).
    pub cursor: Option<NotificationId>,
    /// 1..=[`MAX_PAGE_SIZE`]; the service clamps anything else.
    pub limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            filter: StatusFilter::Inbox,
            cursor: None,
            limit: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Up to `limit` notifications, newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Notification>,
    /// `None` on the last page.
    pub next_cursor: Option<NotificationId>,
    /// The number of the user's latest change, read in the same snapshot as
    /// `items` (contract §7).
    pub seq: u64,
}
