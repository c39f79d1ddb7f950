//! Request telemetry, in one place: a tracing line and two metrics per request.
//!
//! Every label takes its value from a fixed set, whatever a client sends, so
//! no request can add series for ever: the method is one of
//! [`METHOD_LABELS`] (anything else is `other`), the route is the matched
//! *pattern* (`/api/v1/notifications/{id}`) or [`UNMATCHED_ROUTE`], never the
//! raw path or query string (which also keeps `?token=` out of logs).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::Error;

/// Counter, labels `method`, `route`, `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram in seconds, labels `method`, `route`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Buckets for [`HTTP_REQUEST_DURATION_SECONDS`]: 1 ms to 10 s.
pub const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The `route` label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";
/// The `method` labels of the methods this API answers; every other method
/// (made-up ones included) is [`OTHER_METHOD`].
pub const METHOD_LABELS: [&str; 5] = ["GET", "POST", "DELETE", "HEAD", "OPTIONS"];
/// The `method` label of any method not in [`METHOD_LABELS`].
pub const OTHER_METHOD: &str = "other";

/// The `method` label of `method`: itself when it is one of
/// [`METHOD_LABELS`], otherwise [`OTHER_METHOD`].
pub fn method_label(method: &Method) -> &'static str {
    METHOD_LABELS
        .into_iter()
        .find(|label| method.as_str() == *label)
        .unwrap_or(OTHER_METHOD)
}

/// Middleware (`actix_web::middleware::from_fn(telemetry::record)`).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let result = next.call(req).await;
    let elapsed = started.elapsed();
    // The pattern is known only after routing, i.e. on the way back.
    let (route, status) = match &result {
        Ok(response) => (
            response.request().match_pattern(),
            response.status().as_u16(),
        ),
        Err(error) => (None, error.as_response_error().status_code().as_u16()),
    };
    let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    tracing::info!(
        target: "http",
        %method,
        %route,
        status,
        latency_ms = format_args!("{latency_ms:.2}"),
        "request"
    );
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "method" => method,
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        "method" => method,
        "route" => route
    )
    .record(elapsed.as_secs_f64());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_keep_their_name_and_every_other_is_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::OPTIONS), "OPTIONS");
        assert_eq!(method_label(&Method::PATCH), OTHER_METHOD);
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), OTHER_METHOD);
    }
}
