//! The upgrade handler of `GET /ws/notifications`: it admits a connection
//! and hands it over; the conversation runs in the hub.

use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::realtime::{ConnectionRequest, Refusal, Resume, SessionClaims};
use notification_domain::NotificationId;
use notification_protocol::ErrorResponse;
use serde::Deserialize;

use crate::auth::authenticate_websocket;
use crate::error::ApiError;
use crate::state::ApiState;
use crate::websocket::actix_socket::ActixSocket;
use crate::websocket::origin::AllowedOrigins;

/// The application protocol of the socket (contract §8), selected in
/// `Sec-WebSocket-Protocol` when the client offers it.
pub const SUBPROTOCOL: &str = "notifications.v1";

/// What the handler needs beyond the connection gate.
#[derive(Debug, Clone)]
pub struct WebSocketOptions {
    pub allowed_origins: AllowedOrigins,
    /// The largest frame or fragmented message read off the wire. Must cover
    /// the largest message the protocol accepts (an 8 KiB `auth`); the
    /// conversation applies the per-type limits and closes with 1009.
    pub max_frame_size: usize,
}

/// The query of the upgrade request (`token` is read by the authenticator).
#[derive(Debug, Deserialize)]
struct UpgradeQuery {
    since: Option<String>,
    since_seq: Option<String>,
}

/// Open a WebSocket for real-time notifications (contract §5).
#[utoipa::path(
    get,
    path = "/ws/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("Sec-WebSocket-Protocol" = Option<String>, Header, description = "`notifications.v1, bearer.<jwt>`: the JWT for browsers, kept out of the URL (recommended); the server answers `notifications.v1`. Used when there is no `Authorization` header"),
        ("token" = Option<String>, Query, description = "The JWT in the URL, for clients that can do neither header nor subprotocol; the header and the subprotocol win over it"),
        ("since_seq" = Option<u64>, Query, description = "Resume (contract §7): every change of the user after this `seq` is sent first, in order, as the very messages sent live, then live ones, none missing and none repeated; `resync` first when they are no longer kept or `since_seq` is beyond the latest"),
        ("since" = Option<uuid::Uuid>, Query, description = "Resume (v1): `since_seq` = the `seq` at which this notification was created (deleted ones included while the log keeps them); `unknown_since` then live ones when the log does not know it. Not together with `since_seq`"),
    ),
    responses(
        (status = 101, description = "Switching protocols: the WebSocket of docs/protocol.md"),
        (status = 400, description = "Not a WebSocket upgrade request, a malformed `since` or `since_seq`, or both given", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 403, description = "Origin not in ALLOWED_ORIGINS", body = ErrorResponse),
        (status = 429, description = "The user already holds WS_MAX_CONNECTIONS_PER_USER sockets", body = ErrorResponse),
        (status = 503, description = "The server is shutting down", body = ErrorResponse),
    )
)]
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    // Cheapest checks first: nothing here reads storage, and the signature
    // check comes after the header checks.
    if !state.websocket.allowed_origins.permits(req.headers()) {
        return Err(ApiError::Forbidden("this origin may not open WebSockets"));
    }
    // `notifications.v1` is selected when offered (browsers fail a handshake
    // whose answer names none of their offers); a `bearer.<jwt>` offer is
    // never echoed, it only authenticates.
    let (response, session, stream) = actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    let user = authenticate_websocket(&req, &state.tokens).await?;
    let resume = resume(&req)?;
    // The slot is taken before the upgrade so that a refusal is still an
    // HTTP status; from here on, pushes to this user queue for this socket.
    let connection = state
        .connections
        .admit(ConnectionRequest {
            claims: SessionClaims {
                user_id: user.user_id(),
                expires_at: user.expires_at(),
            },
            resume,
        })
        .await
        .map_err(|refusal| match refusal {
            Refusal::TooManyConnections { .. } => ApiError::TooManyConnections(refusal.to_string()),
            Refusal::ShuttingDown => ApiError::ServiceUnavailable(None),
        })?;
    let limit = state.websocket.max_frame_size;
    let stream = stream
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    actix_web::rt::spawn(connection.serve(Box::new(ActixSocket::new(session, stream))));
    Ok(response)
}

/// Parses `?since_seq=` and `?since=`: a malformed value, or both, is
/// refused before the upgrade (400). Whether they name something the log
/// knows is found after the upgrade, by the conversation (`resync` or
/// `unknown_since` on the socket).
fn resume(req: &HttpRequest) -> Result<Option<Resume>, ApiError> {
    let query = web::Query::<UpgradeQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::BadRequest("the query string cannot be parsed".to_owned()))?;
    match (query.since_seq.as_deref(), query.since.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::BadRequest(
            "since and since_seq: give one of them, not both".to_owned(),
        )),
        (Some(raw), None) => raw
            .parse::<u64>()
            .map(|seq| Some(Resume::AfterSeq(seq)))
            .map_err(|_| {
                ApiError::BadRequest(format!(
                    "since_seq: expected an integer of at least 0, got {raw:?}"
                ))
            }),
        (None, Some(raw)) => raw
            .parse::<NotificationId>()
            .map(|id| Some(Resume::AfterNotification(id)))
            .map_err(|_| {
                ApiError::BadRequest(format!(
                    "since: expected a notification id (UUID), got {raw:?}"
                ))
            }),
        (None, None) => Ok(None),
    }
}
