//! `GET /metrics` (Prometheus text) and the recorder set-up the binary uses.

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use notification_protocol::ErrorResponse;

use crate::error::ApiError;
use crate::state::ApiState;
use crate::telemetry::{HTTP_DURATION_BUCKETS, HTTP_REQUEST_DURATION_SECONDS};

/// Content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A Prometheus builder with this crate's histogram buckets (without them
/// histograms render as summaries). The binary adds its own settings and calls
/// `install_recorder()`, then passes the handle in [`ApiState::metrics`].
pub fn prometheus_builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new().set_buckets_for_metric(
        Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.to_owned()),
        HTTP_DURATION_BUCKETS,
    )
}

/// Every metric, in Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 404, description = "Metrics are not enabled", body = ErrorResponse),
    )
)]
pub async fn render(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    exposition(state.metrics.as_ref())
}

/// The exposition of `handle`, or 404 when no recorder is installed.
fn exposition(handle: Option<&PrometheusHandle>) -> Result<HttpResponse, ApiError> {
    let handle = handle.ok_or(ApiError::NotFound("metrics are not enabled"))?;
    Ok(HttpResponse::Ok()
        .content_type(PROMETHEUS_TEXT)
        .body(handle.render()))
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::ResponseError;

    use super::*;

    // The server always installs a recorder, so only here can there be none.
    #[test]
    fn metrics_are_a_404_when_no_recorder_is_installed() {
        let Err(error) = exposition(None) else {
            panic!("an exposition without a recorder");
        };
        assert_eq!(error.status_code(), StatusCode::NOT_FOUND);
        let body = serde_json::to_value(error.to_body()).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }

    #[test]
    fn a_recorder_renders_as_prometheus_text() {
        let recorder = prometheus_builder().unwrap().build_recorder();
        let response = exposition(Some(&recorder.handle())).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            PROMETHEUS_TEXT
        );
    }
}
