//! [`TokenVerifier`]: turns a JWT into an [`AuthenticatedUser`] or refuses it,
//! with a configured key or with the keys of a JWKS.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use notification_domain::UserId;
use serde::Deserialize;
use thiserror::Error;

use super::jwks::{JwksError, JwksKeys};
use super::principal::AuthenticatedUser;
use super::settings::{JwtConfigError, JwtKey, JwtSettings};

/// Clock skew tolerated on `exp` and `nbf`, in seconds. Small on purpose: an
/// expired token stays usable for this long (and a WebSocket stays open), so
/// it only covers ordinary drift between the issuer's clock and ours, not the
/// library's default of a whole minute.
pub const LEEWAY_SECS: u64 = 5;

/// Why a request is not authenticated. Every variant answers 401.
///
/// The `Display` text is what the client reads: it says what to fix without
/// saying which check failed beyond "expired".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingToken,
    #[error("the Authorization header must be `Bearer <token>`")]
    MalformedHeader,
    #[error("token expired")]
    Expired,
    /// Bad signature, wrong algorithm, malformed token, failed claim check…
    /// `reason` is for logs only.
    #[error("invalid token")]
    Invalid { reason: String },
}

/// The claims we read; `exp`, `nbf`, `iss` and `aud` are checked by
/// jsonwebtoken before this is deserialized.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default)]
    scope: Option<String>,
}

/// Verifies tokens with one configured key, or with the keys of a JWKS
/// (by `kid`). Each key accepts one algorithm only. Cheap to share (`Arc`).
pub struct TokenVerifier {
    keys: Keys,
    issuer: Option<String>,
    audience: Option<String>,
}

enum Keys {
    /// `JWT_SECRET` or `JWT_PUBLIC_KEY_FILE`.
    Fixed {
        key: DecodingKey,
        validation: Validation,
    },
    /// `JWT_JWKS_URL`: the key named by the token's `kid`.
    Jwks(JwksVerification),
}

/// A JWKS and the validation of each algorithm its keys may have.
struct JwksVerification {
    keys: Arc<JwksKeys>,
    rs256: Validation,
    es256: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("TokenVerifier");
        match &self.keys {
            Keys::Fixed { validation, .. } => debug.field("algorithms", &validation.algorithms),
            Keys::Jwks(jwks) => debug.field("jwks", &jwks.keys),
        };
        debug
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// Loads the key. The algorithm is the key's (see [`JwtKey::algorithm`]).
    pub fn new(settings: JwtSettings) -> Result<Self, JwtConfigError> {
        let algorithm = settings.key.algorithm();
        Ok(Self {
            keys: Keys::Fixed {
                key: decoding_key(&settings.key)?,
                validation: validation(algorithm, &settings.issuer, &settings.audience),
            },
            issuer: settings.issuer,
            audience: settings.audience,
        })
    }

    /// Verifies with the keys of a JWKS (RS256 and ES256 keys, by `kid`),
    /// checking `iss` and `aud` when given.
    pub fn with_jwks(
        keys: Arc<JwksKeys>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Self {
        Self {
            keys: Keys::Jwks(JwksVerification {
                keys,
                rs256: validation(Algorithm::RS256, &issuer, &audience),
                es256: validation(Algorithm::ES256, &issuer, &audience),
            }),
            issuer,
            audience,
        }
    }

    /// The one algorithm tokens must be signed with; `None` with a JWKS,
    /// where each key has its own.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match &self.keys {
            Keys::Fixed { validation, .. } => validation.algorithms.first().copied(),
            Keys::Jwks(_) => None,
        }
    }

    /// Readiness: a JWKS must have been loaded; a fixed key always is.
    pub fn check_ready(&self) -> Result<(), JwksError> {
        match &self.keys {
            Keys::Fixed { .. } => Ok(()),
            Keys::Jwks(jwks) => jwks.keys.check_loaded(),
        }
    }

    /// Checks signature, algorithm, `exp`, `nbf` (when present), `iss` and
    /// `aud` (when configured), and that `sub` is a UUID, with the keys at
    /// hand: with a JWKS, a `kid` not in the cached set is refused (and a
    /// fetch of the set started in the background, within the refetch
    /// limit). Requests use [`verify_fresh`](Self::verify_fresh).
    pub fn verify(&self, token: &str) -> Result<AuthenticatedUser, AuthError> {
        match &self.keys {
            Keys::Fixed { key, validation } => decode(token, key, validation),
            Keys::Jwks(jwks) => {
                let kid = token_kid(token)?;
                let result = jwks.verify_cached(token, kid.as_deref());
                if result.is_err() && needs_fetch(&jwks.keys, kid.as_deref()) {
                    jwks.keys.nudge();
                }
                result
            }
        }
    }

    /// [`verify`](Self::verify), except that with a JWKS a `kid` the cached
    /// set does not hold makes it fetch the set again first (at most once per
    /// 10 s, see [`JwksKeys`]), so keys rotate without a restart.
    pub async fn verify_fresh(&self, token: &str) -> Result<AuthenticatedUser, AuthError> {
        let Keys::Jwks(jwks) = &self.keys else {
            return self.verify(token);
        };
        let kid = token_kid(token)?;
        if needs_fetch(&jwks.keys, kid.as_deref()) {
            jwks.keys.refresh_for_unknown_kid().await;
        }
        jwks.verify_cached(token, kid.as_deref())
    }
}

impl JwksVerification {
    /// Verifies with the key of the cached set that `kid` names.
    fn verify_cached(
        &self,
        token: &str,
        kid: Option<&str>,
    ) -> Result<AuthenticatedUser, AuthError> {
        let invalid = |reason: &str| AuthError::Invalid {
            reason: reason.to_owned(),
        };
        let set = self
            .keys
            .current()
            .ok_or_else(|| invalid("no JWKS loaded yet"))?;
        let key = set.find(kid).ok_or_else(|| match kid {
            Some(_) => invalid("no key in the JWKS has the token's kid"),
            None => invalid("the token has no kid and the JWKS holds several keys"),
        })?;
        let validation = match key.algorithm {
            Algorithm::ES256 => &self.es256,
            _ => &self.rs256,
        };
        decode(token, &key.key, validation)
    }
}

/// The `kid` of a token's header; a header that cannot be read is invalid.
fn token_kid(token: &str) -> Result<Option<String>, AuthError> {
    jsonwebtoken::decode_header(token)
        .map(|header| header.kid)
        .map_err(|error| AuthError::Invalid {
            reason: error.to_string(),
        })
}

/// Whether fetching the set again could find the key: none is loaded, or the
/// token names a `kid` the set does not hold.
fn needs_fetch(keys: &JwksKeys, kid: Option<&str>) -> bool {
    match keys.current() {
        None => true,
        Some(set) => kid.is_some() && set.find(kid).is_none(),
    }
}

fn decode(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<AuthenticatedUser, AuthError> {
    let data =
        jsonwebtoken::decode::<Claims>(token, key, validation).map_err(|error| {
            match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid {
                    reason: error.to_string(),
                },
            }
        })?;
    let claims = data.claims;
    let user_id: UserId = claims.sub.parse().map_err(|_| AuthError::Invalid {
        reason: "sub is not a UUID".to_owned(),
    })?;
    // `exp` beyond i64 is in the year 292 billion: treat it as "never".
    let expires_at = i64::try_from(claims.exp).unwrap_or(i64::MAX);
    Ok(AuthenticatedUser::new(
        user_id,
        claims.scope.as_deref(),
        expires_at,
    ))
}

fn validation(
    algorithm: Algorithm,
    issuer: &Option<String>,
    audience: &Option<String>,
) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECS;
    // jsonwebtoken skips `nbf` unless asked; the contract checks it when present.
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(issuer) = issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // jsonwebtoken rejects any token carrying `aud` when no audience is
        // configured; we have nothing to compare it with, so we ignore it.
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn decoding_key(key: &JwtKey) -> Result<DecodingKey, JwtConfigError> {
    match key {
        JwtKey::Hs256 { secret } => Ok(DecodingKey::from_secret(secret.expose())),
        JwtKey::PublicKey(public) => match public.algorithm() {
            Algorithm::ES256 => DecodingKey::from_ec_pem(public.as_bytes()),
            _ => DecodingKey::from_rsa_pem(public.as_bytes()),
        }
        .map_err(JwtConfigError::InvalidKey),
    }
}
