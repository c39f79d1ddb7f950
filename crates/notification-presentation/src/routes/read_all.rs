//! `POST /api/v1/notifications/read-all`: mark every unread notification read.

use actix_web::{web, HttpResponse};
use notification_protocol::{ErrorResponse, ReadAllResponse};

use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// Mark all of the caller's unread notifications read.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/read-all",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many notifications were marked read", body = ReadAllResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind; nothing was changed",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn read_all(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let updated = state.service.read_all(user.user_id()).await?;
    Ok(HttpResponse::Ok().json(ReadAllResponse { updated }))
}
