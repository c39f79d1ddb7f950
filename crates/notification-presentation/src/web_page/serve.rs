//! `GET /`, `GET /{file}` and `GET /client/{file}`: the embedded files.

use actix_web::http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{HttpRequest, HttpResponse};

use super::assets::{self, Asset};
use crate::error::ApiError;

/// Serves the embedded file at the request's path; 404 (contract shape) for
/// any other. `no-cache` makes browsers revalidate every load, and a matching
/// `If-None-Match` gets an empty 304, so a new binary's page is never stale.
pub async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let asset = assets::find(req.path()).ok_or(ApiError::NotFound("no such resource"))?;
    let fresh = not_modified(&req, asset);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((ETAG, asset.etag.as_str()))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header((
            CONTENT_SECURITY_POLICY,
            assets::CONTENT_SECURITY_POLICY.trim(),
        ))
        .insert_header((X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    if fresh {
        return Ok(response.finish());
    }
    Ok(response
        .insert_header((CONTENT_TYPE, asset.content_type))
        .body(asset.body))
}

/// Whether `If-None-Match` names this file's current ETag (or `*`).
fn not_modified(req: &HttpRequest, asset: &Asset) -> bool {
    req.headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == asset.etag)
}
