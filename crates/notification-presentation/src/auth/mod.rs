//! JWT authentication, shared by the REST handlers and the WebSocket upgrade.
//!
//! - [`settings`]: [`JwtSettings`] and [`JwtKey`] — an HS256 secret of at least
//!   32 bytes, or a PEM public key (RS256 for RSA, ES256 for EC P-256). Each key
//!   pins one algorithm.
//! - [`verifier`]: [`TokenVerifier`] checks a token and yields an
//!   [`AuthenticatedUser`]; every refusal is an [`AuthError`] (401).
//! - [`jwks`]: [`JwksKeys`], the keys of an identity provider's JWKS
//!   (`JWT_JWKS_URL`), by `kid`, fetched again on rotation.
//! - [`issuer`]: [`TokenIssuer`] signs HS256 tokens for the CLI and dev mode.
//! - [`principal`]: [`AuthenticatedUser`] (user id, scopes, expiry) and
//!   [`Publisher`] (a user with the `notifications:publish` scope).
//! - [`extract`]: actix extractors for both (header only), and
//!   [`authenticate_websocket`] (header or `?token=`).

pub mod extract;
pub mod issuer;
pub mod jwks;
pub mod principal;
pub mod settings;
pub mod verifier;

pub use extract::{authenticate_websocket, bearer_token, subprotocol_token};
pub use issuer::{IssueError, TokenIssuer};
pub use jwks::{JwksError, JwksKeys, JwksSettings};
pub use principal::{AuthenticatedUser, Publisher, PUBLISH_SCOPE};
pub use settings::{
    HmacSecret, JwtConfigError, JwtKey, JwtSettings, PublicKeyPem, MIN_HMAC_SECRET_BYTES,
    MIN_RSA_BITS,
};
pub use verifier::{AuthError, TokenVerifier, LEEWAY_SECS};
