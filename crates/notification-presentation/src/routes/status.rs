//! `POST /api/v1/notifications/{id}/read`, `/unread` and `/archive`: status
//! changes. A repeat returns the notification unchanged and notifies nobody.

use actix_web::{web, HttpResponse};
use notification_protocol::{ErrorResponse, NotificationResource};

use super::notification_id;
use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// Mark a notification read.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/read",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notification's id")),
    responses(
        (status = 200, description = "The notification, now READ (or ARCHIVED, unchanged)", body = NotificationResource),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such notification of the caller", body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind; nothing was changed",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn mark_read(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let notification = state
        .service
        .mark_read(user.user_id(), notification_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(NotificationResource::from(&notification)))
}

/// Mark a notification unread (also takes it out of the archive).
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/unread",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notification's id")),
    responses(
        (status = 200, description = "The notification, now UNREAD", body = NotificationResource),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such notification of the caller", body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind; nothing was changed",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn mark_unread(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let notification = state
        .service
        .mark_unread(user.user_id(), notification_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(NotificationResource::from(&notification)))
}

/// Archive a notification.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/archive",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notification's id")),
    responses(
        (status = 200, description = "The notification, now ARCHIVED", body = NotificationResource),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such notification of the caller", body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind; nothing was changed",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn archive(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let notification = state
        .service
        .archive(user.user_id(), notification_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(NotificationResource::from(&notification)))
}
