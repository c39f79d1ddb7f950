//! Contract §4: read, unread, archive, read-all and delete.

use notification_e2e::{on_both_backends, spawn_app, Backend};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("a timestamp"), &Rfc3339).expect("RFC 3339")
}

async fn read_unread_and_archive_set_their_timestamps(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let created = app.create_for(user, "t").await;
    let id = created["notification_id"].as_str().unwrap();

    let (status, read) = app.act(&token, id, "read").await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["status"], "READ");
    assert!(time_of(&read["read_at"]) >= time_of(&created["created_at"]));

    let (status, again) = app.act(&token, id, "read").await;
    assert_eq!(status, 200);
    assert_eq!(
        again["read_at"], read["read_at"],
        "a repeat changes nothing"
    );

    let (status, archived) = app.act(&token, id, "archive").await;
    assert_eq!(status, 200);
    assert_eq!(archived["status"], "ARCHIVED");
    assert_eq!(
        archived["read_at"], read["read_at"],
        "archive keeps read_at"
    );
    assert!(time_of(&archived["archived_at"]) >= time_of(&read["read_at"]));

    let (status, unread) = app.act(&token, id, "unread").await;
    assert_eq!(status, 200);
    assert_eq!(unread["status"], "UNREAD");
    assert_eq!(unread["read_at"], Value::Null);
    assert_eq!(unread["archived_at"], Value::Null);

    let (_, fetched) = app.get(&token, id).await;
    assert_eq!(fetched, unread, "GET shows the stored state");
}

async fn read_all_marks_every_unread_and_reports_the_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let mut ids = Vec::new();
    for i in 0..5 {
        let created = app.create_for(user, &format!("n{i}")).await;
        ids.push(created["notification_id"].as_str().unwrap().to_owned());
    }
    app.act(&token, &ids[0], "read").await;
    let (status, body) = app.read_all(&token).await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"updated": 4}));
    assert_eq!(app.unread_count(&token).await, 0);
    let (_, unread) = app.list(&token, "?status=UNREAD").await;
    assert_eq!(unread["items"], serde_json::json!([]));
    let (_, again) = app.read_all(&token).await;
    assert_eq!(again, serde_json::json!({"updated": 0}));
}

async fn delete_answers_204_then_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let created = app.create_for(user, "t").await;
    let id = created["notification_id"].as_str().unwrap();
    assert_eq!(app.delete(&token, id).await, 204);
    let (status, error) = app.get(&token, id).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "not_found");
    assert_eq!(app.delete(&token, id).await, 404);
    assert_eq!(app.act(&token, id, "read").await.0, 404);
}

async fn ids_that_are_not_uuids_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.new_user();
    let (status, error) = app.get(&token, "not-a-uuid").await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "not_found");
    assert_eq!(app.act(&token, "42", "read").await.0, 404);
    assert_eq!(app.delete(&token, "42").await, 404);
}

on_both_backends!(
    read_unread_and_archive_set_their_timestamps,
    read_all_marks_every_unread_and_reports_the_count,
    delete_answers_204_then_404,
    ids_that_are_not_uuids_are_404,
);
