//! Probes and the OpenAPI document (metrics have a test binary of their own:
//! the server's recorder is process-wide, so other tests' requests would count).

use notification_infrastructure::testing::PrivatePostgres;
use serde_json::json;

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_ok_even_when_storage_is_down() {
    let (app, _database) = app_with_database_down().await;
    let reply = app.send(app.http(Method::GET, "/healthz")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ok"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_storage() {
    // One server, its database stopped under it.
    let mut database = tokio::task::block_in_place(PrivatePostgres::start);
    let app = spawn_app_with(&database.url(), &[]).await;
    let reply = app.send(app.http(Method::GET, "/readyz")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ok"}));

    tokio::task::block_in_place(|| database.stop());
    app.send(app.http(Method::GET, "/readyz"))
        .await
        .assert_error(503, "service_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route() {
    let app = app().await;
    let reply = app.send(app.http(Method::GET, "/api/openapi.json")).await;
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let expected = [
        ("/api/v1/notifications", "post"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/notifications/unread-count", "get"),
        ("/api/v1/notifications/read-all", "post"),
        ("/api/v1/notifications/{id}", "get"),
        ("/api/v1/notifications/{id}", "delete"),
        ("/api/v1/notifications/{id}/read", "post"),
        ("/api/v1/notifications/{id}/unread", "post"),
        ("/api/v1/notifications/{id}/archive", "post"),
        ("/api/v1/notifications/batch", "post"),
        ("/api/v1/changes", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/ws/notifications", "get"),
    ];
    for (path, method) in expected {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        if path.starts_with("/api/v1") {
            assert_eq!(
                operation["security"],
                json!([{"bearer": []}]),
                "{method} {path}"
            );
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
        }
    }
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, expected.len(), "no undocumented extras");

    let create = &doc["paths"]["/api/v1/notifications"]["post"]["responses"];
    for status in ["201", "400", "403", "413", "422"] {
        assert!(create[status].is_object(), "create documents {status}");
    }
    let batch = &doc["paths"]["/api/v1/notifications/batch"]["post"]["responses"];
    for status in ["201", "400", "403", "413", "422", "503"] {
        assert!(batch[status].is_object(), "batch documents {status}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
    for schema in [
        "NotificationResource",
        "CreateNotificationRequest",
        "CreateBatchRequest",
        "BatchResource",
        "ErrorResponse",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} schema"
        );
    }
}
