//! The upgrade handler of `GET /ws/notifications`.

use actix_web::{web, HttpRequest, HttpResponse};
use notification_application::realtime::{AdmissionError, SessionClaims};
use notification_protocol::ErrorResponse;

use crate::auth::authenticate_websocket;
use crate::error::ApiError;
use crate::state::ApiState;
use crate::websocket::actix_socket::ActixSocket;
use crate::websocket::origin::AllowedOrigins;

/// What the handler needs beyond the connection manager.
#[derive(Debug, Clone)]
pub struct WebSocketOptions {
    pub allowed_origins: AllowedOrigins,
    /// The largest frame or fragmented message read off the wire. Must cover
    /// the largest message the protocol accepts (an 8 KiB `auth`); the
    /// connection loop applies the per-type limits and closes with 1009.
    pub max_frame_size: usize,
}

/// Open a WebSocket for real-time notifications (contract §5).
#[utoipa::path(
    get,
    path = "/ws/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(
        ("token" = Option<String>, Query, description = "The JWT, for clients that cannot set headers (browsers); `Authorization: Bearer` wins when both are given"),
    ),
    responses(
        (status = 101, description = "Switching protocols: the WebSocket of docs/protocol.md"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ErrorResponse),
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
    let connection = state.connections.serve(
        admission,
        claims,
        Box::new(ActixSocket::new(session, stream)),
    );
    actix_web::rt::spawn(connection);
    Ok(response)
}
