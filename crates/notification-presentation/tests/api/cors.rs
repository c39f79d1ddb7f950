//! CORS on `/api/v1` (contract §8).

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use notification_presentation::websocket::AllowedOrigins;
use uuid::Uuid;

use crate::helpers::*;

const PAGE: &str = "https://app.example";
const OTHER: &str = "https://evil.example";

fn listed() -> TestApp {
    let mut app = TestApp::new();
    app.state.websocket.allowed_origins = AllowedOrigins::only([PAGE.to_owned()]);
    app
}

fn preflight(origin: &str, method: &str, headers: &str) -> TestRequest {
    TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/v1/notifications")
        .insert_header(("Origin", origin))
        .insert_header(("Access-Control-Request-Method", method))
        .insert_header(("Access-Control-Request-Headers", headers))
}

fn assert_no_cors_headers(reply: &Reply) {
    for name in reply.headers.keys() {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "unexpected {name}"
        );
    }
}

#[actix_web::test]
async fn an_allowed_origin_is_echoed_with_vary_and_location_is_exposed() {
    for app in [TestApp::new(), listed()] {
        let publisher = app.publisher_token(Uuid::now_v7());
        let reply = app
            .send(
                TestRequest::post()
                    .uri("/api/v1/notifications")
                    .insert_header(bearer(&publisher))
                    .insert_header(("Origin", PAGE))
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload(format!(
                        r#"{{"user_id":"{}","title":"t","message":"m"}}"#,
                        Uuid::now_v7()
                    )),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert_eq!(reply.header("access-control-allow-origin"), Some(PAGE));
        assert!(reply.header("vary").unwrap_or("").contains("Origin"));
        let exposed = reply.header("access-control-expose-headers").unwrap_or("");
        assert!(exposed.eq_ignore_ascii_case("location"), "{exposed}");
    }
}

#[actix_web::test]
async fn a_preflight_gets_204_with_methods_headers_and_max_age() {
    for app in [TestApp::new(), listed()] {
        let reply = app
            .send(preflight(
                PAGE,
                "POST",
                "authorization, content-type, idempotency-key",
            ))
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
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

#[actix_web::test]
async fn another_origin_gets_no_cors_headers() {
    let app = listed();
    let user = Uuid::now_v7();
    let reply = app
        .send(
            TestRequest::get()
                .uri("/api/v1/notifications/unread-count")
                .insert_header(bearer(&app.user_token(user)))
                .insert_header(("Origin", OTHER)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "passes through");
    assert_no_cors_headers(&reply);
}

#[actix_web::test]
async fn a_preflight_from_another_origin_is_a_json_403_without_cors_headers() {
    let reply = listed()
        .send(preflight(OTHER, "POST", "authorization"))
        .await;
    reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_no_cors_headers(&reply);
}

#[actix_web::test]
async fn a_preflight_for_a_method_or_header_we_do_not_take_is_a_json_400() {
    let app = TestApp::new();
    app.send(preflight(PAGE, "PUT", "authorization"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    app.send(preflight(PAGE, "POST", "x-custom"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[actix_web::test]
async fn the_servers_own_origin_works_when_a_list_is_set() {
    let app = listed();
    let own = "http://notifications.internal:8080";
    let reply = app
        .send(
            preflight(own, "DELETE", "authorization")
                .insert_header(("Host", "notifications.internal:8080")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("access-control-allow-origin"), Some(own));
}

#[actix_web::test]
async fn a_request_without_origin_is_untouched() {
    let app = listed();
    let reply = app
        .get(
            "/api/v1/notifications/unread-count",
            &app.user_token(Uuid::now_v7()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_no_cors_headers(&reply);
}
