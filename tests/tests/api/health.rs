//! Operations endpoints: health, readiness, metrics, OpenAPI, unknown routes.

use notification_e2e::{on_both_backends, spawn_app, Backend};
use reqwest::Method;

async fn health_and_readiness_answer_200(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        app.request(Method::GET, "/healthz", None).await.status(),
        200
    );
    assert_eq!(
        app.request(Method::GET, "/readyz", None).await.status(),
        200
    );
}

async fn metrics_count_requests_and_created_notifications(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, _) = app.new_user();
    app.create_for(user, "counted").await;
    let response = app.request(Method::GET, "/metrics", None).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("notifications_created_total"), "{text}");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

async fn the_openapi_document_lists_every_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.request(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    for path in [
        "/api/v1/notifications",
        "/api/v1/notifications/batch",
        "/api/v1/notifications/unread-count",
        "/api/v1/notifications/read-all",
        "/api/v1/notifications/{id}",
        "/api/v1/notifications/{id}/read",
        "/api/v1/notifications/{id}/unread",
        "/api/v1/notifications/{id}/archive",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}

async fn unknown_routes_answer_404_in_the_error_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.request(Method::GET, "/nope", None).await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

on_both_backends!(
    health_and_readiness_answer_200,
    metrics_count_requests_and_created_notifications,
    the_openapi_document_lists_every_endpoint,
    unknown_routes_answer_404_in_the_error_shape,
);
