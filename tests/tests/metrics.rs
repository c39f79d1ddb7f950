//! `GET /metrics` of the real server: requests are counted by route pattern
//! and timed in buckets, and nothing a client makes up becomes a label.
//!
//! A test binary of its own: the server's recorder is process-wide, so the
//! requests of any other test in the same process would be counted too. The
//! two tests here count disjoint series.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use notification_e2e::{spawn_app, Backend};
use reqwest::Method;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_route_pattern_and_timed_in_buckets() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.user_token(Uuid::now_v7());

    for _ in 0..2 {
        app.call(
            Method::GET,
            &format!("/api/v1/notifications/{}", Uuid::now_v7()),
            &token,
        )
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
    let app = spawn_app(Backend::Sqlite).await;

    for i in 0..20 {
        let method = Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        app.send(app.http(method, "/healthz")).await;
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
