//! Tokens for tests, good and deliberately bad.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;
use uuid::Uuid;

/// The HS256 secret every test server is started with.
pub const TEST_SECRET: &str = "end-to-end-test-secret-of-at-least-32-bytes";

/// Which token to mint.
#[derive(Debug, Clone, Copy)]
pub enum TokenKind {
    User,
    Publisher,
    /// Valid signature, `exp` in the past (beyond any leeway).
    Expired,
    /// Signed with another secret.
    WrongKey,
    /// `{"alg":"none"}` and no signature.
    AlgNone,
    /// No `sub` claim.
    MissingSub,
    /// `sub` that is not a UUID.
    NonUuidSub,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A token of `kind` for `sub`.
pub fn mint(kind: TokenKind, sub: Uuid) -> String {
    let exp = now() + 3600;
    let (claims, secret) = match kind {
        TokenKind::User => (json!({"sub": sub, "exp": exp}), TEST_SECRET),
        TokenKind::Publisher => (
            json!({"sub": sub, "exp": exp, "scope": "profile notifications:publish"}),
            TEST_SECRET,
        ),
        TokenKind::Expired => (json!({"sub": sub, "exp": now() - 3600}), TEST_SECRET),
        TokenKind::WrongKey => (
            json!({"sub": sub, "exp": exp}),
            "another-secret-that-is-also-32-bytes-long",
        ),
        TokenKind::MissingSub => (json!({"exp": exp}), TEST_SECRET),
        TokenKind::NonUuidSub => (json!({"sub": "alice", "exp": exp}), TEST_SECRET),
        TokenKind::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let claims = URL_SAFE_NO_PAD.encode(json!({"sub": sub, "exp": exp}).to_string());
            return format!("{header}.{claims}.");
        }
    };
    sign(&claims, secret)
}

/// Signs arbitrary claims with HS256 and `secret`.
pub fn sign(claims: &serde_json::Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing of JSON claims cannot fail")
}
