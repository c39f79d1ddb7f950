//! Contract §2: a user never sees or changes another user's notification.

use notification_e2e::{on_both_backends, spawn_app, Backend};

async fn another_users_notification_is_404_on_every_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, owner_token) = app.new_user();
    let (_, intruder_token) = app.new_user();
    let created = app.create_for(owner, "private").await;
    let id = created["notification_id"].as_str().unwrap();

    assert_eq!(app.get(&intruder_token, id).await.0, 404);
    for action in ["read", "unread", "archive"] {
        let (status, error) = app.act(&intruder_token, id, action).await;
        assert_eq!(status, 404, "{action}");
        assert_eq!(error["error"]["code"], "not_found");
    }
    assert_eq!(app.delete(&intruder_token, id).await, 404);
    let (_, list) = app.list(&intruder_token, "").await;
    assert_eq!(list["items"], serde_json::json!([]));
    let (_, all) = app.read_all(&intruder_token).await;
    assert_eq!(all["updated"], 0);

    // The owner's notification is untouched by all of that.
    let (status, mine) = app.get(&owner_token, id).await;
    assert_eq!(status, 200);
    assert_eq!(mine, created);
    assert_eq!(app.unread_count(&owner_token).await, 1);
}

on_both_backends!(another_users_notification_is_404_on_every_endpoint);
