//! The OpenAPI 3 document of this API, served at `GET /api/openapi.json`.
//!
//! Built from the `#[utoipa::path]` attribute on every handler and the wire
//! types of `notification-protocol`, so it cannot drift from the code.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use notification_protocol::{
    BatchResource, ChangesPage, CreateBatchRequest, CreateNotificationRequest, ErrorBody,
    ErrorCode, ErrorResponse, NotificationPage, NotificationResource, ReadAllResponse,
    UnreadCountResponse,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::health::HealthStatus;
use crate::{health, metrics, routes, websocket};

/// The name of the bearer security scheme used by every `/api/v1` operation.
pub const BEARER_SCHEME: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Notification service",
        description = "Per-user notification inbox with real-time WebSocket delivery \
                       (`GET /ws/notifications`, described in docs/protocol.md). Errors on every \
                       endpoint have the shape `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    paths(
        routes::create::create_notification,
        routes::create_batch::create_batch,
        routes::list::list_notifications,
        routes::unread_count::unread_count,
        routes::read_all::read_all,
        routes::get::get_notification,
        routes::status::mark_read,
        routes::status::mark_unread,
        routes::status::archive,
        routes::delete::delete_notification,
        routes::changes::list_changes,
        health::healthz,
        health::readyz,
        metrics::render,
        websocket::upgrade::upgrade,
    ),
    components(schemas(
        NotificationResource,
        CreateNotificationRequest,
        CreateBatchRequest,
        BatchResource,
        NotificationPage,
        UnreadCountResponse,
        ChangesPage,
        ReadAllResponse,
        ErrorResponse,
        ErrorBody,
        ErrorCode,
        HealthStatus,
    )),
    modifiers(&BearerSecurity),
    tags(
        (name = "notifications", description = "A user's inbox; publishers create notifications"),
        (name = "operations", description = "Probes and metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` (JWT) scheme the operations refer to.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Rendered once: the document never changes while the process runs.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|error| format!(r#"{{"error": "openapi document failed: {error}"}}"#))
});

/// `GET /api/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}
