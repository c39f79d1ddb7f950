//! The inbox page and the JavaScript client, served from the binary.

use crate::*;

const CSP: &str = include_str!("../../../apps/web/content-security-policy.txt");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_is_the_inbox_page_with_its_csp() {
    let app = app().await;
    let reply = app.send(app.http(Method::GET, "/")).await;
    assert_eq!(reply.status, 200);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_module_and_the_page_files_are_served_with_their_types() {
    let app = app().await;
    for (path, kind) in [
        ("/client/notifications.js", "text/javascript; charset=utf-8"),
        ("/inbox.js", "text/javascript; charset=utf-8"),
        ("/inbox.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let reply = app.send(app.http(Method::GET, path)).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("content-type"), Some(kind), "{path}");
        assert!(!reply.body.is_empty(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_etag_gets_an_empty_304() {
    let app = app().await;
    let path = "/client/notifications.js";
    let first = app.send(app.http(Method::GET, path)).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    let again = app
        .send(
            app.http(Method::GET, path)
                .header("If-None-Match", format!("\"other\", {etag}")),
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let stale = app
        .send(
            app.http(Method::GET, path)
                .header("If-None-Match", "\"other\""),
        )
        .await;
    assert_eq!(stale.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_files_are_a_json_404_and_fixed_routes_are_not_shadowed() {
    let app = app().await;
    for path in [
        "/nothing.js",
        "/client/nothing.js",
        "/client/..%2Findex.html",
    ] {
        app.send(app.http(Method::GET, path))
            .await
            .assert_error(404, "not_found");
    }
    let health = app.send(app.http(Method::GET, "/healthz")).await;
    assert_eq!(health.status, 200);
    let openapi = app.send(app.http(Method::GET, "/api/openapi.json")).await;
    assert_eq!(openapi.header("content-type"), Some("application/json"));
}
