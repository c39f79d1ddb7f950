//! [`TokenVerifier`]: turns a JWT into an [`AuthenticatedUser`] or refuses it.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use notification_domain::UserId;
use serde::Deserialize;
use thiserror::Error;

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

/// Verifies tokens with one key and one algorithm. Cheap to share (`Arc`).
pub struct TokenVerifier {
    key: DecodingKey,
    algorithm: Algorithm,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithm", &self.algorithm())
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// Loads the key. The algorithm is the key's (see [`JwtKey::algorithm`]).
    pub fn new(settings: JwtSettings) -> Result<Self, JwtConfigError> {
        let algorithm = settings.key.algorithm();
        Ok(Self {
            key: decoding_key(&settings.key)?,
            algorithm,
            validation: validation(algorithm, &settings),
        })
    }

    /// The one algorithm tokens must be signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Checks signature, algorithm, `exp`, `nbf` (when present), `iss` and
    /// `aud` (when configured), and that `sub` is a UUID.
    pub fn verify(&self, token: &str) -> Result<AuthenticatedUser, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(
            |error| match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid {
                    reason: error.to_string(),
                },
            },
        )?;
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
}

fn validation(algorithm: Algorithm, settings: &JwtSettings) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECS;
    // jsonwebtoken skips `nbf` unless asked; the contract checks it when present.
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(issuer) = &settings.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &settings.audience {
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
