//! `GET /api/v1/notifications/{id}`: one of the caller's notifications.

use actix_web::{web, HttpResponse};
use notification_protocol::{ErrorResponse, NotificationResource};

use super::notification_id;
use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// Read one notification.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/{id}",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notification's id")),
    responses(
        (status = 200, description = "The notification", body = NotificationResource),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such notification of the caller", body = ErrorResponse),
        (status = 503, description = "Storage unavailable",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn get_notification(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = notification_id(&id)?;
    let notification = state.service.get(user.user_id(), id).await?;
    Ok(HttpResponse::Ok().json(NotificationResource::from(&notification)))
}
