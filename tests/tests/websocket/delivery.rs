//! Every notification and every change reaches every socket of its user, and
//! only theirs.

use notification_e2e::{on_both_backends, spawn_app, Backend};
use serde_json::json;

async fn a_notification_reaches_all_three_sockets_of_its_user_and_no_one_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let (other, other_token) = app.new_user();
    let mut devices = vec![
        app.ws(&token).await,
        app.ws(&token).await,
        app.ws(&token).await,
    ];
    let mut bystander = app.ws(&other_token).await;

    let created = app.create_for(user, "for every device").await;
    for device in &mut devices {
        let message = device.next_json().await;
        assert_eq!(
            message,
            json!({"type": "notification", "data": created, "unread_count": 1, "seq": 1})
        );
    }

    // The bystander's first message is its own notification: nothing of the
    // first user's reached it before.
    let own = app.create_for(other, "yours").await;
    let message = bystander.expect("notification").await;
    assert_eq!(message["data"], own);
}

async fn every_change_reaches_every_socket_as_an_update(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut devices = vec![app.ws(&token).await, app.ws(&token).await];
    let created = app.create_for(user, "t").await;
    let id = created["notification_id"].as_str().unwrap().to_owned();
    for device in &mut devices {
        device.expect("notification").await;
    }

    let (_, read) = app.act(&token, &id, "read").await;
    for device in &mut devices {
        let update = device.expect("notification_update").await;
        assert_eq!(
            update,
            json!({"type": "notification_update", "notification_id": id, "update_type": "read",
                   "data": {"status": "READ", "read_at": read["read_at"]}, "unread_count": 0,
                   "seq": 2})
        );
    }

    app.act(&token, &id, "unread").await;
    for device in &mut devices {
        let update = device.expect("notification_update").await;
        assert_eq!(update["update_type"], "unread");
        assert_eq!(update["data"], json!({"status": "UNREAD"}));
        assert_eq!(update["unread_count"], 1);
    }

    let (_, archived) = app.act(&token, &id, "archive").await;
    for device in &mut devices {
        let update = device.expect("notification_update").await;
        assert_eq!(update["update_type"], "archive");
        assert_eq!(
            update["data"],
            json!({"status": "ARCHIVED", "archived_at": archived["archived_at"]})
        );
        assert_eq!(update["unread_count"], 0);
    }

    app.create_for(user, "second").await;
    for device in &mut devices {
        device.expect("notification").await;
    }
    let (_, all) = app.read_all(&token).await;
    assert_eq!(all["updated"], 1);
    for device in &mut devices {
        let update = device.expect("notification_update").await;
        assert_eq!(update["update_type"], "read_all");
        assert_eq!(update["notification_id"], json!(null));
        assert_eq!(update["data"]["status"], "READ");
        assert_eq!(update["data"]["updated"], 1);
        assert!(update["data"]["read_at"].is_string());
        assert_eq!(update["unread_count"], 0);
    }

    assert_eq!(app.delete(&token, &id).await, 204);
    for device in &mut devices {
        let update = device.expect("notification_update").await;
        assert_eq!(
            update,
            json!({"type": "notification_update", "notification_id": id, "update_type": "delete",
                   "data": {}, "unread_count": 0, "seq": 7})
        );
    }
}

async fn a_repeated_change_sends_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let created = app.create_for(user, "t").await;
    let id = created["notification_id"].as_str().unwrap().to_owned();
    socket.expect("notification").await;

    app.act(&token, &id, "read").await;
    socket.expect("notification_update").await;
    app.act(&token, &id, "read").await;
    app.read_all(&token).await; // nothing unread: no update either

    // Events of one user arrive in order, so the next message being this new
    // notification proves the repeats sent nothing.
    let marker = app.create_for(user, "marker").await;
    let next = socket.next_json().await;
    assert_eq!(next["type"], "notification", "got {next}");
    assert_eq!(next["data"], marker);
}

async fn unread_count_is_right_on_every_push(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut socket = app.ws(&token).await;
    let mut ids = Vec::new();
    for expected in 1..=4u64 {
        let created = app.create_for(user, &format!("n{expected}")).await;
        ids.push(created["notification_id"].as_str().unwrap().to_owned());
        assert_eq!(
            socket.expect("notification").await["unread_count"],
            expected
        );
    }
    let steps: [(usize, &str, u64); 5] = [
        (0, "read", 3),
        (1, "archive", 2),
        (0, "unread", 3),
        (2, "read", 2),
        (3, "archive", 1),
    ];
    for (index, action, expected) in steps {
        app.act(&token, &ids[index], action).await;
        let update = socket.expect("notification_update").await;
        assert_eq!(
            update["unread_count"], expected,
            "after {action} of #{index}"
        );
        assert_eq!(app.unread_count(&token).await, expected, "REST agrees");
    }
    app.delete(&token, &ids[0]).await;
    assert_eq!(
        socket.expect("notification_update").await["unread_count"],
        0
    );
}

on_both_backends!(
    a_notification_reaches_all_three_sockets_of_its_user_and_no_one_else,
    every_change_reaches_every_socket_as_an_update,
    a_repeated_change_sends_nothing,
    unread_count_is_right_on_every_push,
);
