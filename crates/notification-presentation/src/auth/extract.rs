//! Where a request's token comes from, and the actix extractors built on it.
//!
//! REST requests carry the token in `Authorization: Bearer` only. Browsers
//! cannot set headers on a WebSocket, so an upgrade may also offer the
//! subprotocol `bearer.<jwt>` (contract §8; kept out of URLs and so out of
//! proxy logs) or, as a last resort, `?token=`. Precedence: header,
//! subprotocol, query.

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use super::principal::{AuthenticatedUser, Publisher};
use super::verifier::{AuthError, TokenVerifier};
use crate::error::ApiError;

/// The token of a REST request: `Authorization: Bearer <jwt>` (scheme
/// case-insensitive, RFC 7235). `Ok(None)` when there is no such header.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MalformedHeader)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(Some(token))
}

/// The subprotocol that carries a token: `bearer.<jwt>`.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "bearer.";

/// The token offered as the subprotocol `bearer.<jwt>` in
/// `Sec-WebSocket-Protocol` (a comma list, possibly over several header
/// lines; entries trimmed). An empty `bearer.` counts as missing.
pub fn subprotocol_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|offer| offer.trim().strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
        .find(|token| !token.is_empty())
}

/// Authenticates a WebSocket upgrade request: the bearer header when present,
/// else the `bearer.<jwt>` subprotocol, else the `token` query parameter.
/// Call it before upgrading so that a bad token gets a 401 response and no
/// socket.
pub async fn authenticate_websocket(
    req: &HttpRequest,
    verifier: &TokenVerifier,
) -> Result<AuthenticatedUser, ApiError> {
    let token = match bearer_token(req.headers())? {
        Some(token) => token.to_owned(),
        None => match subprotocol_token(req.headers()) {
            Some(token) => token.to_owned(),
            None => query_token(req.query_string())?.ok_or(AuthError::MissingToken)?,
        },
    };
    Ok(verifier.verify_fresh(&token).await?)
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The `token` query parameter; an empty one counts as missing.
fn query_token(query: &str) -> Result<Option<String>, AuthError> {
    let parsed = web::Query::<TokenQuery>::from_query(query).map_err(|_| AuthError::Invalid {
        reason: "unreadable query string".to_owned(),
    })?;
    Ok(parsed.into_inner().token.filter(|t| !t.is_empty()))
}

/// Verifies the bearer header of a REST request. A future, because with a
/// JWKS a new `kid` waits for the set to be fetched again.
fn authenticate_rest(
    req: &HttpRequest,
) -> LocalBoxFuture<'static, Result<AuthenticatedUser, ApiError>> {
    let verifier = req
        .app_data::<web::Data<TokenVerifier>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("TokenVerifier is not registered as app data"));
    let token = bearer_token(req.headers()).map(|token| token.map(str::to_owned));
    Box::pin(async move {
        let verifier = verifier?;
        let token = token?.ok_or(AuthError::MissingToken)?;
        Ok(verifier.verify_fresh(&token).await?)
    })
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        authenticate_rest(req)
    }
}

impl FromRequest for Publisher {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate_rest(req);
        Box::pin(async move {
            let user = user.await?;
            if user.is_publisher() {
                Ok(Publisher(user))
            } else {
                Err(ApiError::Forbidden(
                    "creating notifications needs the notifications:publish scope",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(&headers("bearer abc")), Ok(Some("abc")));
        assert_eq!(bearer_token(&headers("Bearer  abc ")), Ok(Some("abc")));
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_malformed() {
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "abc"] {
            assert_eq!(
                bearer_token(&headers(value)),
                Err(AuthError::MalformedHeader),
                "{value}"
            );
        }
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn the_subprotocol_token_is_found_in_a_comma_list_over_several_lines() {
        let mut headers = HeaderMap::new();
        headers.append(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("notifications.v1"),
        );
        assert_eq!(subprotocol_token(&headers), None);
        headers.append(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("other , bearer. ,  bearer.a.b.c  "),
        );
        assert_eq!(subprotocol_token(&headers), Some("a.b.c"));
    }

    #[test]
    fn the_query_token_is_read_and_an_empty_one_is_missing() {
        assert_eq!(
            query_token("since=x&token=a.b.c").unwrap().as_deref(),
            Some("a.b.c")
        );
        assert_eq!(query_token("token=").unwrap(), None);
        assert_eq!(query_token("").unwrap(), None);
    }
}
