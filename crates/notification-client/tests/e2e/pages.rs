//! `list_all`: every notification once, newest first, across pages.

use futures_util::TryStreamExt;
use notification_client::ListParams;
use notification_e2e::{on_both_backends, spawn_app, Backend};

use crate::support::{client, create};

async fn the_page_stream_visits_every_notification_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let titles: Vec<String> = (0..7).map(|n| format!("n{n}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let mut created = create(&app, user, &titles).await;
    created.reverse(); // the listing is newest first
    let inbox = client(&app.base_url, &token);

    // Pages of 3: 3 + 3 + 1, three requests, one stream.
    let visited: Vec<_> = inbox
        .list_all(ListParams::default().with_limit(3))
        .map_ok(|notification| notification.notification_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(visited, created);

    // An exact multiple of the page size ends too (the last page is empty of
    // a cursor, not of items).
    let visited: Vec<_> = inbox
        .list_all(ListParams::default().with_limit(7))
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(visited.len(), 7);

    // An error ends the stream after it is yielded.
    let errors: Vec<_> = inbox
        .list_all(ListParams::default().with_limit(0))
        .collect_errors()
        .await;
    assert_eq!(errors, vec![Some(422)]);
    app.stop().await;
}

/// The statuses of the errors a stream yields, to its end.
trait CollectErrors {
    async fn collect_errors(self) -> Vec<Option<u16>>;
}

impl<S> CollectErrors for S
where
    S: futures_util::Stream<
        Item = Result<
            notification_client::protocol::NotificationResource,
            notification_client::ClientError,
        >,
    >,
{
    async fn collect_errors(self) -> Vec<Option<u16>> {
        use futures_util::StreamExt;
        self.filter_map(|item| async move { item.err().map(|error| error.status()) })
            .collect()
            .await
    }
}

on_both_backends!(the_page_stream_visits_every_notification_once);
