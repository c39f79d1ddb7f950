//! `DELETE /api/v1/notifications/{id}`.

use actix_web::{web, HttpResponse};
use notification_protocol::ErrorResponse;

use super::notification_id;
use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// Delete one of the caller's notifications.
#[utoipa::path(
    delete,
    path = "/api/v1/notifications/{id}",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notification's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such notification of the caller", body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind; nothing was changed",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn delete_notification(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .delete(user.user_id(), notification_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
