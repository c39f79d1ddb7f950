//! Every notification of a listing, page after page, as one `Stream`.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use notification_protocol::NotificationResource;

use crate::client::{ListParams, NotificationClient};
use crate::error::ClientError;

/// Where the walk stands: the query of the next page, or done.
enum Walk {
    Next(ListParams),
    Done,
}

impl NotificationClient {
    /// Every notification `params` selects (newest first), fetched a page at
    /// a time as the stream is read, following `next_cursor` until the last
    /// page. `params.cursor` is where to start (`None`: the newest). An error
    /// ends the stream after it is yielded.
    ///
    /// Cursors are keyset positions, so a notification created while the
    /// walk runs is not visited (it is newer than the first page) and none is
    /// visited twice; one deleted meanwhile may be skipped.
    pub fn list_all(
        &self,
        params: ListParams,
    ) -> impl Stream<Item = Result<NotificationResource, ClientError>> + Send + 'static {
        let client = self.clone();
        stream::try_unfold(Walk::Next(params), move |walk| {
            let client = client.clone();
            async move {
                let Walk::Next(params) = walk else {
                    return Ok::<_, ClientError>(None);
                };
                let page = client.list(&params).await?;
                let next = match page.next_cursor {
                    Some(cursor) => Walk::Next(params.with_cursor(cursor)),
                    None => Walk::Done,
                };
                Ok(Some((page.items, next)))
            }
        })
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}
