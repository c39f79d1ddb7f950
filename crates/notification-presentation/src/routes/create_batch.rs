//! `POST /api/v1/notifications/batch`: a publisher creates up to 1000
//! notifications, for any users, all or nothing.

use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::Idempotency;
use notification_protocol::{
    BatchResource, CreateBatchRequest, ErrorResponse, NotificationResource,
};

use super::create::read_body;
use super::create_batch_body::{parse_batch_body, BATCH_BODY_LIMIT};
use crate::auth::Publisher;
use crate::error::ApiError;
use crate::idempotency::{idempotency_key, IDEMPOTENT_REPLAYED_HEADER};
use crate::state::ApiState;

/// Create a batch of notifications (publisher tokens only).
#[utoipa::path(
    post,
    path = "/api/v1/notifications/batch",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Covers the whole batch. A repeat of the same batch (the same items in the \
                        same order) with the same key by the same publisher within 24 h answers \
                        the first list again (201, plus `Idempotent-Replayed: true`) and stores and \
                        notifies nothing; the same key with another batch, or a key already used \
                        by a single create, is a 422 `idempotency_key_reused`.")
    ),
    request_body = CreateBatchRequest,
    responses(
        (status = 201, description = "Every notification stored, in one transaction, and pushed to \
                                      its user; the list in the request's order (or the replay of \
                                      the first answer to this `Idempotency-Key`)", body = BatchResource,
         headers(
             ("Idempotent-Replayed" = Option<String>,
              description = "`true` when this answers an earlier request with the same `Idempotency-Key`; absent otherwise")
         )),
        (status = 400, description = "Malformed JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 403, description = "Token lacks the notifications:publish scope", body = ErrorResponse),
        (status = 413, description = "Body larger than 8 MiB", body = ErrorResponse),
        (status = 422, description = "Nothing stored: an item breaks a rule (`validation_failed`, \
                                      `field` like `notifications[3].title`), the list is missing or \
                                      holds 0 or more than 1000 items (`field: \"notifications\"`), \
                                      or the `Idempotency-Key` was already used for a different \
                                      request (`idempotency_key_reused`)",
         body = ErrorResponse),
        (status = 503, description = "Storage unavailable, or its writers too far behind to take \
            the batch in time; nothing was stored", body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn create_batch(
    publisher: Publisher,
    state: web::Data<ApiState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(req.headers())?;
    let body = read_body(&req, payload, BATCH_BODY_LIMIT).await?;
    let drafts = parse_batch_body(&body)?;
    let idempotency = key.map(|key| Idempotency::new(publisher.user().user_id(), key));
    let outcome = state.service.create_batch(drafts, idempotency).await?;
    let mut response = HttpResponse::Created();
    if outcome.is_replay() {
        response.insert_header((IDEMPOTENT_REPLAYED_HEADER, "true"));
    }
    Ok(response.json(BatchResource {
        notifications: outcome
            .notifications()
            .iter()
            .map(NotificationResource::from)
            .collect(),
    }))
}
