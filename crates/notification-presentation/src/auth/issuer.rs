//! [`TokenIssuer`]: signs HS256 tokens for the CLI `token` command and for dev
//! mode. A deployment with a public key gets its tokens from its identity
//! provider instead.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

use super::settings::{JwtConfigError, JwtKey, JwtSettings};

/// Signs tokens the matching [`TokenVerifier`](super::TokenVerifier) accepts:
/// same secret, and the configured `iss` and `aud` when there are any.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// A token could not be signed.
#[derive(Debug, Error)]
pub enum IssueError {
    #[error("token lifetime is too long")]
    TtlTooLong,
    #[error("token could not be signed")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: Uuid,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

impl TokenIssuer {
    /// An issuer for an HS256 key; fails for a public key (we cannot sign
    /// with it). Its tokens carry no `iss` or `aud`.
    pub fn new(key: &JwtKey) -> Result<Self, JwtConfigError> {
        let JwtKey::Hs256 { secret } = key else {
            return Err(JwtConfigError::IssuerNeedsSecret);
        };
        Ok(Self {
            key: EncodingKey::from_secret(secret.expose()),
            issuer: None,
            audience: None,
        })
    }

    /// An issuer whose tokens also carry the configured `iss` and `aud`, so a
    /// verifier with the same settings accepts them.
    pub fn from_settings(settings: &JwtSettings) -> Result<Self, JwtConfigError> {
        Ok(Self {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ..Self::new(&settings.key)?
        })
    }

    /// A token for `sub`, valid for `ttl` from now. Pass
    /// `Some(PUBLISH_SCOPE)` for a publisher token.
    pub fn issue(
        &self,
        sub: Uuid,
        scope: Option<&str>,
        ttl: Duration,
    ) -> Result<String, IssueError> {
        // A clock before 1970 is not worth failing over: count from 0.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let exp = now
            .checked_add(ttl.as_secs())
            .filter(|exp| i64::try_from(*exp).is_ok())
            .ok_or(IssueError::TtlTooLong)?;
        let claims = IssuedClaims {
            sub,
            iat: now,
            exp,
            scope,
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
        };
        jsonwebtoken::encode(&Header::default(), &claims, &self.key).map_err(IssueError::Sign)
    }
}
