//! Probes: `GET /healthz` (the process runs) and `GET /readyz` (its
//! dependencies answer).

use actix_web::{web, HttpResponse};
use notification_protocol::ErrorResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::ApiState;

/// Body of a successful probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: 200 while the process runs; checks nothing else.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process runs", body = HealthStatus))
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// Readiness: 200 when the database and the event bus answer and, with
/// `JWT_JWKS_URL`, the key set has been loaded; else 503.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = HealthStatus),
        (status = 503, description = "A dependency is not answering", body = ErrorResponse),
    )
)]
pub async fn readyz(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    state
        .tokens
        .check_ready()
        .map_err(|error| ApiError::ServiceUnavailable(Some(Box::new(error))))?;
    state
        .service
        .check_ready()
        .await
        .map_err(|error| ApiError::ServiceUnavailable(Some(Box::new(error))))?;
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}
