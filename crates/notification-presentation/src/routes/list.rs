//! `GET /api/v1/notifications`: one page of the caller's notifications, newest first.

use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::page::DEFAULT_PAGE_SIZE;
use notification_application::{PageRequest, MAX_PAGE_SIZE};
use notification_domain::{NotificationId, NotificationStatus, StatusFilter, ValidationError};
use notification_protocol::{ErrorResponse, NotificationPage, NotificationResource};
use serde::Deserialize;

use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// List the caller's notifications.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("status" = Option<String>, Query,
         description = "UNREAD, READ or ARCHIVED; without it, archived notifications are left out"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size, default 20"),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "A page, newest first", body = NotificationPage),
        (status = 400, description = "Unreadable query string", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 422, description = "Bad `status`, `limit` or `cursor`; `field` names it", body = ErrorResponse),
        (status = 503, description = "Storage unavailable",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn list_notifications(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let request = parse_list_query(req.query_string())?;
    let page = state.service.list(user.user_id(), request).await?;
    Ok(HttpResponse::Ok().json(NotificationPage {
        items: page.items.iter().map(NotificationResource::from).collect(),
        next_cursor: page.next_cursor.map(encode_cursor),
        seq: page.seq,
    }))
}

/// The query parameters as sent; each is checked below so that a bad one
/// answers 422 with its name.
#[derive(Deserialize)]
struct RawListQuery {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn parse_list_query(query: &str) -> Result<PageRequest, ApiError> {
    let raw = web::Query::<RawListQuery>::from_query(query)
        .map_err(|error| ApiError::BadRequest(format!("unreadable query string: {error}")))?
        .into_inner();
    let filter = match raw.status {
        None => StatusFilter::Inbox,
        Some(status) => StatusFilter::Only(status.parse::<NotificationStatus>()?),
    };
    let limit = match raw.limit {
        None => DEFAULT_PAGE_SIZE,
        Some(limit) => limit
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
            .ok_or_else(|| {
                ValidationError::new(
                    "limit",
                    format!("must be an integer from 1 to {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let cursor = raw
        .cursor
        .map(|cursor| decode_cursor(&cursor))
        .transpose()?;
    Ok(PageRequest {
        filter,
        cursor,
        limit,
    })
}

/// Cursors are opaque to clients. Today one is the id of the last item of the
/// page (ids sort by creation time); documenting it as opaque leaves room to
/// change that.
fn encode_cursor(last: NotificationId) -> String {
    last.to_string()
}

fn decode_cursor(cursor: &str) -> Result<NotificationId, ValidationError> {
    cursor.parse().map_err(|_| {
        ValidationError::new(
            "cursor",
            "is not a cursor returned by this API (use `next_cursor`)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(query: &str) -> &'static str {
        match parse_list_query(query) {
            Err(ApiError::Validation(error)) => error.field,
            other => panic!("expected a validation error for {query:?}, got {other:?}"),
        }
    }

    #[test]
    fn no_parameters_mean_the_inbox_twenty_at_a_time() {
        assert_eq!(parse_list_query("").unwrap(), PageRequest::default());
        assert_eq!(parse_list_query("").unwrap().filter, StatusFilter::Inbox);
    }

    #[test]
    fn parameters_are_read() {
        let id = NotificationId::new();
        let request = parse_list_query(&format!("status=ARCHIVED&limit=100&cursor={id}")).unwrap();
        assert_eq!(
            request,
            PageRequest {
                filter: StatusFilter::Only(NotificationStatus::Archived),
                cursor: Some(id),
                limit: 100,
            }
        );
    }

    #[test]
    fn a_cursor_round_trips() {
        let id = NotificationId::new();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
    }

    #[test]
    fn bad_parameters_name_their_field() {
        assert_eq!(field_of("status=unread"), "status");
        assert_eq!(field_of("status="), "status");
        for limit in ["0", "101", "-1", "ten", "", "1.5"] {
            assert_eq!(field_of(&format!("limit={limit}")), "limit", "{limit}");
        }
        assert_eq!(field_of("cursor=abc"), "cursor");
    }
}
