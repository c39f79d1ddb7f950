//! Requests no handler takes still get the contract's error shape.

use uuid::Uuid;

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_a_json_404() {
    let app = app().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/notifications",
        "/api/v1/notifications/a/b/c",
    ] {
        app.send(app.http(Method::GET, path))
            .await
            .assert_error(404, "not_found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_is_a_json_405_with_allow() {
    let app = app().await;
    let cases = [
        (Method::PUT, "/api/v1/notifications", "GET, POST"),
        (Method::GET, "/api/v1/notifications/read-all", "POST"),
        (Method::DELETE, "/api/v1/notifications/unread-count", "GET"),
        (
            Method::PATCH,
            "/api/v1/notifications/0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f",
            "GET, DELETE",
        ),
        (
            Method::GET,
            "/api/v1/notifications/0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f/read",
            "POST",
        ),
    ];
    for (request, path, allow) in cases {
        let reply = app.send(app.http(request, path)).await;
        reply.assert_error(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some(allow), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_all_is_not_taken_for_an_id() {
    let app = app().await;
    let user = Uuid::now_v7();
    app.create_id(user, "n").await;
    let reply = app
        .call(
            Method::POST,
            "/api/v1/notifications/read-all",
            &app.user_token(user),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["updated"], 1);
}
