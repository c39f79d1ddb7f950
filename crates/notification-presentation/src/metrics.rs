//! `GET /metrics` (Prometheus text) and the recorder set-up the binary uses.

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
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
    let handle = state
        .metrics
        .as_ref()
        .ok_or(ApiError::NotFound("metrics are not enabled"))?;
    Ok(HttpResponse::Ok()
        .content_type(PROMETHEUS_TEXT)
        .body(handle.render()))
}
