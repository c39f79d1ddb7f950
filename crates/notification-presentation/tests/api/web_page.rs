//! The inbox page and the JavaScript client, served from the binary.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::*;

const CSP: &str = include_str!("../../../../apps/web/content-security-policy.txt");

#[actix_web::test]
async fn the_root_is_the_inbox_page_with_its_csp() {
    let reply = TestApp::new().send(TestRequest::get().uri("/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.header("content-security-policy"), Some(CSP.trim()));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    let page = std::str::from_utf8(&reply.body).unwrap();
    assert!(page.contains("<title>Inbox</title>"), "{page}");
}

#[actix_web::test]
async fn the_client_module_and_the_page_files_are_served_with_their_types() {
    let app = TestApp::new();
    for (path, kind) in [
        ("/client/notifications.js", "text/javascript; charset=utf-8"),
        ("/inbox.js", "text/javascript; charset=utf-8"),
        ("/inbox.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let reply = app.send(TestRequest::get().uri(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), Some(kind), "{path}");
        assert!(!reply.body.is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn a_matching_etag_gets_an_empty_304() {
    let app = TestApp::new();
    let first = app
        .send(TestRequest::get().uri("/client/notifications.js"))
        .await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    let again = app
        .send(
            TestRequest::get()
                .uri("/client/notifications.js")
                .insert_header(("If-None-Match", format!("\"other\", {etag}"))),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let stale = app
        .send(
            TestRequest::get()
                .uri("/client/notifications.js")
                .insert_header(("If-None-Match", "\"other\"")),
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);
}

#[actix_web::test]
async fn unknown_files_are_a_json_404_and_fixed_routes_are_not_shadowed() {
    let app = TestApp::new();
    for path in [
        "/nothing.js",
        "/client/nothing.js",
        "/client/..%2Findex.html",
    ] {
        app.send(TestRequest::get().uri(path))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    let health = app.send(TestRequest::get().uri("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    let openapi = app.send(TestRequest::get().uri("/api/openapi.json")).await;
    assert_eq!(openapi.header("content-type"), Some("application/json"));
}
