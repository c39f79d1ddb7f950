//! `GET /api/v1/notifications/unread-count`: the badge number.

use actix_web::{web, HttpResponse};
use notification_protocol::{ErrorResponse, UnreadCountResponse};

use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// How many of the caller's notifications are unread.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/unread-count",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The unread count", body = UnreadCountResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "Storage unavailable",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn unread_count(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let position = state.service.unread_count(user.user_id()).await?;
    Ok(HttpResponse::Ok().json(UnreadCountResponse {
        unread_count: position.unread_count,
        seq: position.seq,
    }))
}
