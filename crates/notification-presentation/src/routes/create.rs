//! `POST /api/v1/notifications`: a publisher creates a notification for a user.

use actix_web::http::header::{CONTENT_LENGTH, LOCATION};
use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::{NotificationService, ServiceError};
use notification_domain::{Notification, NotificationDraft};
use notification_protocol::{CreateNotificationRequest, ErrorResponse, NotificationResource};

use super::create_body::{parse_create_body, CREATE_BODY_LIMIT};
use crate::auth::Publisher;
use crate::error::ApiError;
use crate::idempotency::IdempotencyKey;
use crate::state::ApiState;

/// Create a notification (publisher tokens only).
#[utoipa::path(
    post,
    path = "/api/v1/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "1–255 visible ASCII characters; a repeat with the same key within 24 h returns the first result")
    ),
    request_body = CreateNotificationRequest,
    responses(
        (status = 201, description = "Created; `Location` names the new resource", body = NotificationResource,
         headers(("Location" = String, description = "/api/v1/notifications/{id}"))),
        (status = 400, description = "Malformed JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 403, description = "Token lacks the notifications:publish scope", body = ErrorResponse),
        (status = 413, description = "Body larger than 1 MiB", body = ErrorResponse),
        (status = 422, description = "A field breaks a rule; `field` names it", body = ErrorResponse),
        (status = 503, description = "Storage unavailable", body = ErrorResponse),
    )
)]
pub async fn create_notification(
    _publisher: Publisher,
    state: web::Data<ApiState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_headers(req.headers())?;
    let body = read_body(&req, payload).await?;
    let draft = parse_create_body(&body)?;
    let notification = create_once(&state.service, draft, key).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/notifications/{}", notification.id()),
        ))
        .json(NotificationResource::from(&notification)))
}

/// Creates the notification once per idempotency key.
///
/// Seam for `Idempotency-Key`: for now every call creates. The idempotency
/// issue makes a repeat with the same key (within 24 h) return the first
/// notification and publish nothing, without touching the handler.
pub async fn create_once(
    service: &NotificationService,
    draft: NotificationDraft,
    _key: Option<IdempotencyKey>,
) -> Result<Notification, ServiceError> {
    service.create(draft).await
}

/// The whole body, up to [`CREATE_BODY_LIMIT`] bytes. Whatever the
/// `Content-Type`: clients that forget it still get their JSON read.
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, ApiError> {
    let too_large = ApiError::PayloadTooLarge {
        limit: CREATE_BODY_LIMIT,
    };
    // Refuse an announced oversize body before reading any of it.
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|len| len > CREATE_BODY_LIMIT as u64) {
        return Err(too_large);
    }
    match payload.to_bytes_limited(CREATE_BODY_LIMIT).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => Err(ApiError::BadRequest(format!(
            "request body could not be read: {error}"
        ))),
        Err(_) => Err(too_large),
    }
}
