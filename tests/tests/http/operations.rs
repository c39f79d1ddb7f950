//! Probes, metrics, request telemetry and the OpenAPI document.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use notification_presentation::metrics::prometheus_builder;
use serde_json::json;
use uuid::Uuid;

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_ok_even_when_storage_is_down() {
    let app = TestApp::with_repository(storage_failing_with(unavailable));
    let reply = app.send(app.http(Method::GET, "/healthz")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ok"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_storage() {
    let app = app().await;
    let reply = app.send(app.http(Method::GET, "/readyz")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"status": "ok"}));

    let down = TestApp::with_repository(storage_failing_with(unavailable));
    down.send(app.http(Method::GET, "/readyz"))
        .await
        .assert_error(503, "service_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_a_404_when_no_recorder_is_installed() {
    let app = app().await;
    app.send(app.http(Method::GET, "/metrics"))
        .await
        .assert_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_route_pattern_and_timed_in_buckets() {
    let recorder = prometheus_builder().unwrap().build_recorder();
    let app = app().await.with_metrics(recorder.handle());
    let _guard = metrics::set_default_local_recorder(&recorder);
    let token = app.user_token(Uuid::now_v7());

    for _ in 0..2 {
        app.call(Method::GET, &format!("/api/v1/notifications/{}", Uuid::now_v7()), &token)
            .await;
    }
    let reply = app.send(app.http(Method::GET, "/metrics")).await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(reply.body.to_vec()).unwrap();

    let counter = text
        .lines()
        .find(|line| {
            line.starts_with("http_requests_total{")
                && line.contains(r#"route="/api/v1/notifications/{id}""#)
        })
        .unwrap_or_else(|| panic!("no counter for the route pattern:\n{text}"));
    assert!(counter.contains(r#"method="GET""#), "{counter}");
    assert!(counter.contains(r#"status="404""#), "{counter}");
    assert!(counter.ends_with(" 2"), "{counter}");
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "a histogram, not a summary:\n{text}"
    );
    assert!(
        !text.contains("/api/v1/notifications/0"),
        "no raw ids as labels"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_and_paths_add_no_metric_series() {
    let recorder = prometheus_builder().unwrap().build_recorder();
    let app = app().await.with_metrics(recorder.handle());
    let _guard = metrics::set_default_local_recorder(&recorder);

    for i in 0..20 {
        let method = actix_web::http::Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        app.send(TestRequest::default().method(method).uri("/healthz"))
            .await;
        app.send(app.http(Method::GET, &format!("/no/such/path/{i}")))
            .await;
    }
    let reply = app.send(app.http(Method::GET, "/metrics")).await;
    let text = String::from_utf8(reply.body.to_vec()).unwrap();

    let series: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("http_requests_total{"))
        .collect();
    assert!(
        !text.contains("FOO"),
        "a made-up method became a label:\n{text}"
    );
    assert!(
        !text.contains("/no/such"),
        "a raw path became a label:\n{text}"
    );
    let other = series
        .iter()
        .find(|line| line.contains(r#"method="other""#) && line.contains(r#"route="/healthz""#))
        .unwrap_or_else(|| panic!("made-up methods are counted as `other`:\n{text}"));
    assert!(other.ends_with(" 20"), "{other}");
    let unmatched = series
        .iter()
        .find(|line| line.contains(r#"method="GET""#) && line.contains(r#"route="unmatched""#))
        .unwrap_or_else(|| panic!("unknown paths are counted as `unmatched`:\n{text}"));
    assert!(unmatched.ends_with(" 20"), "{unmatched}");
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
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
    for schema in [
        "NotificationResource",
        "CreateNotificationRequest",
        "ErrorResponse",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} schema"
        );
    }
}
