//! A gap in what the socket carries (a proxy lost frames): the client fills
//! it from the changes feed before yielding anything after it.

use notification_client::Event;
use notification_e2e::{on_both_backends, spawn_app, Backend};

use crate::support::relay::Relay;
use crate::support::{addr, client, connected, create, next_event};

async fn changes_lost_on_the_way_are_read_from_the_changes_feed_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let relay = Relay::start(addr(&app)).await;
    relay.lose_notifications_titled("lost");
    let (user, token) = app.new_user();
    let mut subscription = client(&relay.base_url(), &token).subscribe();
    connected(&mut subscription).await;

    let created = create(&app, user, &["one", "lost two", "lost three", "four"]).await;

    let mut yielded = Vec::new();
    while yielded.len() < created.len() {
        match next_event(&mut subscription).await {
            Event::Notification {
                notification, seq, ..
            } => yielded.push((seq, notification.notification_id)),
            other => panic!("expected notifications only, got {other:?}"),
        }
    }
    let expected: Vec<_> = (1..).zip(created).collect();
    assert_eq!(yielded, expected, "in seq order, none missing");
    assert_eq!(relay.lost(), 2, "the wire really lost two");
    assert_eq!(subscription.seq(), Some(4));
}

on_both_backends!(changes_lost_on_the_way_are_read_from_the_changes_feed_in_order);
