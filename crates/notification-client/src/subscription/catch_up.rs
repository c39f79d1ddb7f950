//! REST reads that complete what the socket delivers.
//!
//! The socket replays only from a notification id. Two cases have none:
//! the very first connection "from now" (the anchor is the newest existing
//! notification), and a resume point the server no longer knows (it was
//! deleted: `unknown_since`), where the gap is read from the REST list.

use notification_protocol::{NotificationResource, NotificationStatus};
use uuid::Uuid;

use crate::client::{ListParams, NotificationClient};
use crate::error::ClientError;

/// Page size of catch-up reads (the server's maximum).
const PAGE: u32 = 100;

/// The id of the user's newest notification, inbox or archived; `None` when
/// the user has none.
pub(super) async fn newest_id(client: &NotificationClient) -> Result<Option<Uuid>, ClientError> {
    let mut newest = None;
    for status in [None, Some(NotificationStatus::Archived)] {
        let page = client
            .list(&ListParams {
                status,
                limit: Some(1),
                cursor: None,
            })
            .await?;
        newest = newest.max(page.items.first().map(|n| n.notification_id));
    }
    Ok(newest)
}

/// Every notification of the user created after `after` (all of them when
/// `None`), oldest first, in its current state.
pub(super) async fn created_after(
    client: &NotificationClient,
    after: Option<Uuid>,
) -> Result<Vec<NotificationResource>, ClientError> {
    let mut found = Vec::new();
    // The inbox list leaves archived notifications out: read both.
    for status in [None, Some(NotificationStatus::Archived)] {
        let mut cursor = None;
        'pages: loop {
            let page = client
                .list(&ListParams {
                    status,
                    limit: Some(PAGE),
                    cursor,
                })
                .await?;
            for item in page.items {
                // Newest first: the first one at or before `after` ends it.
                if after.is_some_and(|after| item.notification_id <= after) {
                    break 'pages;
                }
                found.push(item);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    found.sort_by_key(|n| n.notification_id);
    // One archived while the two lists were read shows up in both.
    found.dedup_by_key(|n| n.notification_id);
    Ok(found)
}
