//! CORS on `/api/v1` (contract §8), with actix-cors.
//!
//! An allowed `Origin` (every one when `ALLOWED_ORIGINS` is unset, else the
//! listed ones and the server's own) is echoed in
//! `Access-Control-Allow-Origin` with `Vary: Origin`; a preflight gets 204 with
//! the methods, headers and `Access-Control-Max-Age: 600`; `Location` is
//! exposed. Another origin's request passes through with no CORS headers (the
//! browser then blocks it). [`contract_answers`] wraps the middleware so that
//! what actix-cors refuses is answered in the contract's error shape, never
//! its plain-text 400.

use actix_cors::{Cors, CorsError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    LOCATION,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::error::ApiError;
use crate::idempotency::IDEMPOTENCY_KEY_HEADER;
use crate::websocket::AllowedOrigins;

/// How long a browser may cache a preflight's answer, in seconds.
pub const PREFLIGHT_MAX_AGE: usize = 600;

/// The actix-cors middleware for `ALLOWED_ORIGINS`.
pub fn cors(origins: AllowedOrigins) -> Cors {
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            origin
                .to_str()
                .is_ok_and(|origin| origins.permits_origin(origin, &head.headers))
        })
        .allowed_methods([Method::GET, Method::POST, Method::DELETE])
        .allowed_headers(["Authorization", "Content-Type", IDEMPOTENCY_KEY_HEADER])
        .expose_headers([LOCATION])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// Wraps [`cors`]: its refusals (a preflight from another origin, or asking
/// for a method or header we do not take) become the contract's error body;
/// a response to another origin loses the headers actix-cors adds to every
/// response; a successful preflight is a 204, as the contract says.
pub async fn contract_answers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?;
    if let Some(refusal) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
    {
        let answer = match refusal {
            CorsError::OriginNotAllowed => {
                ApiError::Forbidden("this origin may not call the API (ALLOWED_ORIGINS)")
            }
            other => ApiError::BadRequest(format!("CORS preflight refused: {other}")),
        }
        .error_response();
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(req, answer).map_into_right_body());
    }
    let headers = res.headers_mut();
    if !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    if preflight && res.status() == StatusCode::OK {
        *res.response_mut().status_mut() = StatusCode::NO_CONTENT;
    }
    Ok(res.map_into_left_body())
}
