//! Answers for requests no handler takes, in the contract's error shape
//! (actix's own are empty bodies).

use actix_web::{web, HttpResponse, Resource};

use crate::error::ApiError;

/// The app's default service: no route has this path.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such resource"))
}

/// A resource whose unmatched methods answer 405 with `Allow: {allow}`.
pub fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow })
    }))
}
