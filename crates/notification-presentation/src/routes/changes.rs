//! `GET /api/v1/changes`: the caller's change log after a seq (contract §7),
//! for clients that poll instead of holding a socket.

use actix_web::{web, HttpRequest, HttpResponse};
use notification_domain::{ChangesAfter, MAX_CHANGES_PER_READ};
use notification_protocol::{ChangesPage, ErrorResponse, ServerMessage};
use serde::Deserialize;

use crate::auth::AuthenticatedUser;
use crate::error::ApiError;
use crate::state::ApiState;

/// Changes per page when the client does not say.
pub const DEFAULT_CHANGES_PAGE: u32 = 100;

/// The caller's changes after `after_seq`, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/changes",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("after_seq" = u64, Query, minimum = 0,
         description = "The seq the client is at (0: before the first change); \
                        the changes after it are returned"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Page size, default 100"),
    ),
    responses(
        (status = 200, description = "The changes after `after_seq`, in order, as the WebSocket \
                                      messages sent for them; `seq` is the latest", body = ChangesPage),
        (status = 400, description = "Missing or malformed `after_seq`, or a bad `limit`", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 410, description = "`resync_required`: the changes after `after_seq` are no \
                                      longer kept, or it is beyond the latest seq; reload the inbox",
            body = ErrorResponse),
        (status = 503, description = "Storage unavailable",
            body = ErrorResponse,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again"))),
    )
)]
pub async fn list_changes(
    user: AuthenticatedUser,
    state: web::Data<ApiState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (after_seq, limit) = parse_changes_query(req.query_string())?;
    match state
        .service
        .changes(user.user_id(), after_seq, limit)
        .await?
    {
        ChangesAfter::Kept { changes, latest } => {
            let has_more = changes.last().is_some_and(|last| last.seq() < latest.seq);
            Ok(HttpResponse::Ok().json(ChangesPage {
                changes: changes.iter().map(ServerMessage::from).collect(),
                seq: latest.seq,
                has_more,
            }))
        }
        ChangesAfter::Gone { latest } => Err(ApiError::ResyncRequired { latest: latest.seq }),
    }
}

/// The query parameters as sent; each is checked below.
#[derive(Deserialize)]
struct RawChangesQuery {
    after_seq: Option<String>,
    limit: Option<String>,
}

fn parse_changes_query(query: &str) -> Result<(u64, u32), ApiError> {
    let raw = web::Query::<RawChangesQuery>::from_query(query)
        .map_err(|error| ApiError::BadRequest(format!("unreadable query string: {error}")))?
        .into_inner();
    let after_seq = raw
        .after_seq
        .ok_or_else(|| ApiError::BadRequest("after_seq is required (0 for the start)".into()))?
        .parse::<u64>()
        .map_err(|_| ApiError::BadRequest("after_seq must be an integer ≥ 0".into()))?;
    let limit = match raw.limit {
        None => DEFAULT_CHANGES_PAGE,
        Some(limit) => limit
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_CHANGES_PER_READ).contains(limit))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit must be an integer from 1 to {MAX_CHANGES_PER_READ}"
                ))
            })?,
    };
    Ok((after_seq, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(query: &str) -> String {
        match parse_changes_query(query) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("expected 400 for {query:?}, got {other:?}"),
        }
    }

    #[test]
    fn after_seq_is_required_and_the_limit_defaults_to_100() {
        assert_eq!(parse_changes_query("after_seq=0").unwrap(), (0, 100));
        assert_eq!(
            parse_changes_query("after_seq=18446744073709551615&limit=500").unwrap(),
            (u64::MAX, 500)
        );
        assert!(bad("").contains("after_seq"));
        assert!(bad("limit=5").contains("after_seq"));
    }

    #[test]
    fn malformed_values_are_bad_requests_naming_the_parameter() {
        for after in ["-1", "x", "", "1.5", "18446744073709551616"] {
            assert!(
                bad(&format!("after_seq={after}")).contains("after_seq"),
                "{after}"
            );
        }
        for limit in ["0", "501", "-1", "ten", ""] {
            assert!(
                bad(&format!("after_seq=0&limit={limit}")).contains("limit"),
                "{limit}"
            );
        }
    }
}
