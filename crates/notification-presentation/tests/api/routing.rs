//! Requests no handler takes still get the contract's error shape.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use uuid::Uuid;

use crate::helpers::*;

#[actix_web::test]
async fn an_unknown_route_is_a_json_404() {
    let app = TestApp::new().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/notifications",
        "/api/v1/notifications/a/b/c",
    ] {
        app.send(TestRequest::get().uri(path))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[actix_web::test]
async fn a_wrong_method_is_a_json_405_with_allow() {
    let app = TestApp::new().await;
    let cases = [
        (TestRequest::put(), "/api/v1/notifications", "GET, POST"),
        (TestRequest::get(), "/api/v1/notifications/read-all", "POST"),
        (
            TestRequest::delete(),
            "/api/v1/notifications/unread-count",
            "GET",
        ),
        (
            TestRequest::patch(),
            "/api/v1/notifications/0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f",
            "GET, DELETE",
        ),
        (
            TestRequest::get(),
            "/api/v1/notifications/0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f/read",
            "POST",
        ),
    ];
    for (request, path, allow) in cases {
        let reply = app.send(request.uri(path)).await;
        reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some(allow), "{path}");
    }
}

#[actix_web::test]
async fn read_all_is_not_taken_for_an_id() {
    let app = TestApp::new().await;
    let user = Uuid::now_v7();
    app.create_for(user, "n").await;
    let reply = app
        .post("/api/v1/notifications/read-all", &app.user_token(user))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["updated"], 1);
}
