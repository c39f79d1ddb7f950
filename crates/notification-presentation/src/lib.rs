//! # notification-presentation
//!
//! The HTTP face of the notification service: actix-web handlers that turn
//! requests into calls on `notification-application`'s `NotificationService`
//! and its results into the JSON of `notification-protocol`. It knows nothing
//! of databases or event buses (it never depends on infrastructure).
//!
//! - [`mod@app`]: [`app()`], the actix `App` the binary serves, with every route.
//! - [`state`]: [`ApiState`], the shared handles handlers reach through
//!   `web::Data`.
//! - [`auth`]: JWT verification ([`TokenVerifier`]), token issuing for the CLI
//!   and dev mode ([`TokenIssuer`]), and the [`AuthenticatedUser`] /
//!   [`Publisher`] extractors; [`authenticate_websocket`] serves the upgrade.
//! - [`error`]: [`ApiError`], mapped once to status codes and the contract's
//!   error body.
//! - [`cors`]: CORS on `/api/v1` from `ALLOWED_ORIGINS` (actix-cors, its
//!   refusals answered in the contract's error shape).
//! - [`routes`]: the `/api/v1` REST handlers, one file per endpoint or group,
//!   and the 404/405 fallbacks.
//! - [`idempotency`]: the `Idempotency-Key` header of create and the
//!   `Idempotent-Replayed` header of its replays.
//! - [`health`]: `GET /healthz` and `GET /readyz`.
//! - [`metrics`]: `GET /metrics` and the Prometheus builder with our buckets.
//! - [`request_id`]: the outermost middleware: an `X-Request-Id` for every
//!   request, on its response and in every log line written while serving it.
//! - [`telemetry`]: the middleware that logs and counts every request by route
//!   pattern (never by raw URL, so tokens stay out of logs).
//! - [`websocket`]: `GET /ws/notifications`: the upgrade handler (origin,
//!   token from header, `bearer.` subprotocol or query, per-user limit before the upgrade) and the actix-ws adapter of the
//!   connection loop's transport port.
//! - [`openapi`]: the OpenAPI document at `GET /api/openapi.json`.
//! - [`web_page`]: the inbox page at `GET /` and the JavaScript client at
//!   `GET /client/*`, embedded in the binary at build time.

pub mod app;
pub mod auth;
pub mod cors;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod request_id;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod web_page;
pub mod websocket;

pub use app::app;
pub use auth::{
    authenticate_websocket, AuthError, AuthenticatedUser, JwtConfigError, JwtKey, JwtSettings,
    Publisher, TokenIssuer, TokenVerifier, PUBLISH_SCOPE,
};
pub use error::ApiError;
pub use state::ApiState;
