//! `POST /api/v1/notifications`: a publisher creates a notification for a user.

use actix_web::http::header::{CONTENT_LENGTH, LOCATION};
use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::Idempotency;
use notification_protocol::{CreateNotificationRequest, ErrorResponse, NotificationResource};

use super::create_body::{parse_create_body, CREATE_BODY_LIMIT};
use crate::auth::Publisher;
use crate::error::ApiError;
use crate::idempotency::{idempotency_key, IDEMPOTENT_REPLAYED_HEADER};
use crate::state::ApiState;

/// Create a notification (publisher tokens only).
#[utoipa::path(
    post,
    path = "/api/v1/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "1–255 visible ASCII characters, chosen by the publisher. A repeat of the \
                        same request with the same key by the same publisher within 24 h answers \
                        the first response again (same status, body and `Location`, plus \
                        `Idempotent-Replayed: true`) and notifies nobody; the same key with a \
                        different request is a 422 `idempotency_key_reused`.")
    ),
    request_body = CreateNotificationRequest,
    responses(
        (status = 201, description = "Created, or the replay of the first response to this `Idempotency-Key`; \
                                      `Location` names the resource", body = NotificationResource,
         headers(
             ("Location" = String, description = "/api/v1/notifications/{id}"),
             ("Idempotent-Replayed" = Option<String>,
              description = "`true` when this answers an earlier request with the same `Idempotency-Key`; absent otherwise")
         )),
        (status = 400, description = "Malformed JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 403, description = "Token lacks the notifications:publish scope", body = ErrorResponse),
        (status = 413, description = "Body larger than 1 MiB", body = ErrorResponse),
        (status = 422, description = "A field breaks a rule (`validation_failed`, `field` names it), or the \
                                      `Idempotency-Key` was already used by this publisher for a different \
                                      request (`idempotency_key_reused`, `field: \"Idempotency-Key\"`)",
         body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind to take \
            the create in time; nothing was stored", body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn create_notification(
    publisher: Publisher,
    state: web::Data<ApiState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(req.headers())?;
    let body = read_body(&req, payload, CREATE_BODY_LIMIT).await?;
    let draft = parse_create_body(&body)?;
    let idempotency = key.map(|key| Idempotency::new(publisher.user().user_id(), key));
    let outcome = state.service.create(draft, idempotency).await?;
    let notification = outcome.notification();
    let mut response = HttpResponse::Created();
    response.insert_header((
        LOCATION,
        format!("/api/v1/notifications/{}", notification.id()),
    ));
    if outcome.is_replay() {
        response.insert_header((IDEMPOTENT_REPLAYED_HEADER, "true"));
    }
    Ok(response.json(NotificationResource::from(notification)))
}

/// The whole body, up to `limit` bytes (413 beyond). Whatever the
/// `Content-Type`: clients that forget it still get their JSON read.
pub(super) async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit };
    // Refuse an announced oversize body before reading any of it.
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(too_large);
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => Err(ApiError::BadRequest(format!(
            "request body could not be read: {error}"
        ))),
        Err(_) => Err(too_large),
    }
}
