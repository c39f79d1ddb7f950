//! Two nodes, concurrent changes of one user made through both: every socket
//! on both nodes receives `seq` 1..N in order, with no gap and no repeat, and
//! ends on the stored unread count (issue "Exact sync": once in 40 tries the
//! sockets used to end on a stale count).

use std::sync::Arc;

use futures_util::future::join_all;

use crate::support::{changes_until, connect, id_of, position, two_nodes};

/// Rounds, each with a new user (as the reproduction did).
const ROUNDS: usize = 12;
const FIRST_CREATES: usize = 16;
const READS: usize = 8;
const LATER_CREATES: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_on_both_nodes_get_every_change_of_concurrent_writes_in_order_and_end_on_the_stored_count(
) {
    let (a, b) = two_nodes().await;
    let nodes = Arc::new([a, b]);
    for round in 0..ROUNDS {
        let (user, token) = nodes[0].new_user();
        let mut sockets = Vec::new();
        for node in nodes.iter() {
            for _ in 0..2 {
                sockets.push(connect(node, &token, Some("since_seq=0")).await);
            }
        }

        // Creates through both nodes at once.
        let creates = (0..FIRST_CREATES).map(|i| {
            let nodes = Arc::clone(&nodes);
            async move { nodes[i % 2].create_for(user, &format!("first {i}")).await }
        });
        let created = join_all(creates).await;

        // Reads of some, a read-all and more creates, all at once.
        let mut writes: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> =
            Vec::new();
        for (i, notification) in created.iter().take(READS).enumerate() {
            let (nodes, token, id) = (Arc::clone(&nodes), token.clone(), id_of(notification));
            writes.push(Box::pin(async move {
                let (status, _) = nodes[i % 2].act(&token, &id, "read").await;
                assert_eq!(status, 200);
            }));
        }
        {
            let (nodes, token) = (Arc::clone(&nodes), token.clone());
            writes.push(Box::pin(async move {
                let (status, _) = nodes[round % 2].read_all(&token).await;
                assert_eq!(status, 200);
            }));
        }
        for i in 0..LATER_CREATES {
            let nodes = Arc::clone(&nodes);
            writes.push(Box::pin(async move {
                nodes[i % 2].create_for(user, &format!("later {i}")).await;
            }));
        }
        join_all(writes).await;

        let (latest, stored_unread) = position(&nodes[0], &token).await;
        assert!(
            latest >= (FIRST_CREATES + LATER_CREATES) as u64,
            "every create took a number: {latest}"
        );
        for (index, socket) in sockets.iter_mut().enumerate() {
            let changes = changes_until(socket, 0, latest).await;
            let last = changes.last().expect("changes");
            assert_eq!(
                last["unread_count"], stored_unread,
                "round {round}, socket {index}: the last count is the stored one"
            );
        }
        // Nothing after the last one: the next message is the next change.
        let marker = nodes[1].create_for(user, "marker").await;
        for socket in &mut sockets {
            let next = socket.expect("notification").await;
            assert_eq!(next["seq"], latest + 1, "no repeat after the last change");
            assert_eq!(next["data"], marker);
        }
        for socket in sockets {
            socket.close().await;
        }
    }
}
