//! The upgrade handler of `GET /ws/notifications`.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::realtime::{
    AdmissionError, ClientSocket, OutboundFrame, SessionClaims,
};
use notification_application::{NotificationService, ServiceError};
use notification_domain::{NotificationId, UserId};
use notification_protocol::ErrorResponse;
use serde::Deserialize;

use crate::auth::authenticate_websocket;
use crate::error::ApiError;
use crate::state::ApiState;
use crate::websocket::actix_socket::ActixSocket;
use crate::websocket::origin::AllowedOrigins;
use crate::websocket::replay::{replay_since, report_unknown_since};

/// What the handler needs beyond the connection manager.
#[derive(Debug, Clone)]
pub struct WebSocketOptions {
    pub allowed_origins: AllowedOrigins,
    /// The largest frame or fragmented message read off the wire. Must cover
    /// the largest message the protocol accepts (an 8 KiB `auth`); the
    /// connection loop applies the per-type limits and closes with 1009.
    pub max_frame_size: usize,
    /// `WS_WRITE_TIMEOUT`, also for the `since` replay.
    pub write_timeout: Duration,
}

/// The query of the upgrade request (`token` is read by the authenticator).
#[derive(Debug, Deserialize)]
struct UpgradeQuery {
    since: Option<String>,
}

/// Where the connection starts.
enum Resume {
    /// No `since`: live notifications only.
    Live,
    /// Replay what was created after this id, then live.
    After(NotificationId),
    /// `since` names none of the user's notifications: say so, then live.
    UnknownSince,
}

/// Open a WebSocket for real-time notifications (contract §5).
#[utoipa::path(
    get,
    path = "/ws/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("token" = Option<String>, Query, description = "The JWT, for clients that cannot set headers (browsers); `Authorization: Bearer` wins when both are given"),
        ("since" = Option<uuid::Uuid>, Query, description = "Resume: every notification created after this one is sent first, oldest first, then live ones"),
    ),
    responses(
        (status = 101, description = "Switching protocols: the WebSocket of docs/protocol.md"),
        (status = 400, description = "Not a WebSocket upgrade request, or a malformed `since`", body = ErrorResponse),
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
    if !state.websocket.allowed_origins.permits(req.headers()) {
        return Err(ApiError::Forbidden("this origin may not open WebSockets"));
    }
    let user = authenticate_websocket(&req, &state.tokens)?;
    let resume = resume_point(&req, &state.service, user.user_id()).await?;
    // The slot is taken before the upgrade so that a refusal is still an
    // HTTP status; from here on, pushes to this user queue for this socket.
    let admission = state
        .connections
        .admit(user.user_id())
        .map_err(|error| match error {
            AdmissionError::TooManyConnections { .. } => {
                ApiError::TooManyConnections(error.to_string())
            }
            AdmissionError::ShuttingDown => ApiError::ServiceUnavailable(None),
        })?;
    let (response, session, stream) =
        actix_ws::handle(&req, body).map_err(|error| ApiError::BadRequest(error.to_string()))?;
    let limit = state.websocket.max_frame_size;
    let stream = stream
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    let claims = SessionClaims {
        user_id: user.user_id(),
        expires_at: user.expires_at(),
    };
    let mut socket = ActixSocket::new(session, stream);
    let service = state.service.clone();
    let connections = state.connections.clone();
    let write_timeout = state.websocket.write_timeout;
    actix_web::rt::spawn(async move {
        let resumed = match resume {
            Resume::Live => Ok(()),
            Resume::UnknownSince => report_unknown_since(&mut socket, write_timeout).await,
            Resume::After(since) => {
                replay_since(&service, claims.user_id, since, &mut socket, write_timeout)
                    .await
                    .map(|sent| tracing::debug!(user_id = %claims.user_id, sent, "replayed since"))
            }
        };
        match resumed {
            Ok(()) => connections.serve(admission, claims, Box::new(socket)).await,
            Err(error) => {
                // The client retries with the same `since`: nothing is lost.
                tracing::warn!(user_id = %claims.user_id, %error, "replay failed; closing with 1011");
                let close = OutboundFrame::Close {
                    code: 1011,
                    reason: "replay failed, reconnect with the same since".to_owned(),
                };
                let _ = tokio::time::timeout(write_timeout, socket.send(close)).await;
                drop(admission);
            }
        }
    });
    Ok(response)
}

/// Reads `?since=`: a malformed id is refused before the upgrade (400); an id
/// that is not one of the user's notifications (never was, or was deleted) is
/// reported on the socket.
async fn resume_point(
    req: &HttpRequest,
    service: &NotificationService,
    user_id: UserId,
) -> Result<Resume, ApiError> {
    let query = web::Query::<UpgradeQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::BadRequest("the query string cannot be parsed".to_owned()))?;
    let Some(raw) = query.since.as_deref() else {
        return Ok(Resume::Live);
    };
    let since: NotificationId = raw.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "since: expected a notification id (UUID), got {raw:?}"
        ))
    })?;
    match service.get(user_id, since).await {
        Ok(_) => Ok(Resume::After(since)),
        Err(ServiceError::NotFound) => Ok(Resume::UnknownSince),
        Err(error) => Err(error.into()),
    }
}
