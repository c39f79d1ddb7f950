//! [`app`]: the actix-web application the binary serves.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App};

use crate::state::ApiState;
use crate::{health, metrics, openapi, request_id, routes, telemetry, web_page, websocket};

/// The whole HTTP app. Call it inside `HttpServer::new(move || app(state.clone()))`.
///
/// Every handler reads `web::Data<ApiState>`; the auth extractors read
/// `web::Data<TokenVerifier>`. Every route of the service is listed here,
/// the WebSocket upgrade included.
pub fn app(
    state: ApiState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let tokens = web::Data::from(state.tokens.clone());
    let origins = state.websocket.allowed_origins.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(tokens)
        .wrap(from_fn(telemetry::record))
        // Outermost (registered last): the request line above is in its span.
        .wrap(from_fn(request_id::tag))
        .configure(|cfg| routes::api_v1(cfg, origins))
        .route("/ws/notifications", web::get().to(websocket::upgrade))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::render))
        .route("/api/openapi.json", web::get().to(openapi::document))
        // The inbox page and the JavaScript client, after every fixed path.
        .route("/", web::get().to(web_page::serve))
        .route("/{file}", web::get().to(web_page::serve))
        .route("/client/{file}", web::get().to(web_page::serve))
        .default_service(web::to(routes::fallback::not_found))
}
