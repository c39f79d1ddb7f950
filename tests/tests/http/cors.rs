//! CORS on `/api/v1` (contract §8), from the origins `--allowed-origins` lists.

use reqwest::RequestBuilder;
use uuid::Uuid;

use crate::*;

const PAGE: &str = "https://app.example";
const OTHER: &str = "https://evil.example";

/// A server that allows only [`PAGE`] (and its own origin).
async fn listed() -> TestApp {
    spawn_app_with(
        &Backend::Sqlite.database_url().await,
        &["--allowed-origins", PAGE],
    )
    .await
}

/// A server without a list (any origin) and one that lists [`PAGE`].
async fn unlisted_and_listed() -> [TestApp; 2] {
    [app().await, listed().await]
}

fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> RequestBuilder {
    app.http(Method::OPTIONS, "/api/v1/notifications")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
}

fn assert_no_cors_headers(reply: &Reply) {
    for name in reply.headers.keys() {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "unexpected {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_origin_is_echoed_with_vary_and_location_is_exposed() {
    for app in unlisted_and_listed().await {
        let body = format!(
            r#"{{"user_id":"{}","title":"t","message":"m"}}"#,
            Uuid::now_v7()
        );
        let reply = app
            .send(
                app.create_request(&app.publisher_token(), body)
                    .header("Origin", PAGE)
                    .header("Content-Type", "application/json"),
            )
            .await;
        assert_eq!(reply.status, 201);
        assert_eq!(reply.header("access-control-allow-origin"), Some(PAGE));
        assert!(reply.header("vary").unwrap_or("").contains("Origin"));
        let exposed = reply.header("access-control-expose-headers").unwrap_or("");
        assert!(exposed.eq_ignore_ascii_case("location"), "{exposed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_gets_204_with_methods_headers_and_max_age() {
    for app in unlisted_and_listed().await {
        let reply = app
            .send(preflight(
                &app,
                PAGE,
                "POST",
                "authorization, content-type, idempotency-key",
            ))
            .await;
        assert_eq!(reply.status, 204);
        assert_eq!(reply.header("access-control-allow-origin"), Some(PAGE));
        assert_eq!(reply.header("access-control-max-age"), Some("600"));
        let methods = reply.header("access-control-allow-methods").unwrap();
        for method in ["GET", "POST", "DELETE"] {
            assert!(methods.contains(method), "{methods}");
        }
        let headers = reply
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        for header in ["authorization", "content-type", "idempotency-key"] {
            assert!(headers.contains(header), "{headers}");
        }
        assert!(reply.header("vary").unwrap_or("").contains("Origin"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_gets_no_cors_headers() {
    let app = listed().await;
    let (_, token) = app.new_user();
    let reply = app
        .send(
            app.http(Method::GET, "/api/v1/notifications/unread-count")
                .bearer_auth(token)
                .header("Origin", OTHER),
        )
        .await;
    assert_eq!(reply.status, 200, "passes through");
    assert_no_cors_headers(&reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_another_origin_is_a_json_403_without_cors_headers() {
    let app = listed().await;
    let reply = app
        .send(preflight(&app, OTHER, "POST", "authorization"))
        .await;
    reply.assert_error(403, "forbidden");
    assert_no_cors_headers(&reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_for_a_method_or_header_we_do_not_take_is_a_json_400() {
    let app = app().await;
    app.send(preflight(&app, PAGE, "PUT", "authorization"))
        .await
        .assert_error(400, "bad_request");
    app.send(preflight(&app, PAGE, "POST", "x-custom"))
        .await
        .assert_error(400, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_origin_works_when_a_list_is_set() {
    let app = listed().await;
    let own = "http://notifications.internal:8080";
    let reply = app
        .send(
            preflight(&app, own, "DELETE", "authorization")
                .header("Host", "notifications.internal:8080"),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some(own));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_origin_is_untouched() {
    let app = listed().await;
    let (_, token) = app.new_user();
    let reply = app
        .call(Method::GET, "/api/v1/notifications/unread-count", &token)
        .await;
    assert_eq!(reply.status, 200);
    assert_no_cors_headers(&reply);
}
