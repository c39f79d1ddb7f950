//! How tokens are checked: the key (and with it the one accepted algorithm),
//! and the optional issuer and audience.

use std::fmt;
use std::path::Path;

use jsonwebtoken::Algorithm;
// One pkcs8 trait decodes both RSA and P-256 SPKI keys.
use p256::pkcs8::DecodePublicKey as _;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;
use thiserror::Error;

/// Shortest HS256 secret accepted, in bytes. RFC 7518 §3.2: the key must be at
/// least as long as the hash output (256 bits).
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

/// Smallest RSA key accepted, in bits (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;

/// An HS256 secret of at least [`MIN_HMAC_SECRET_BYTES`] bytes.
///
/// Its `Debug` never prints the bytes, so settings can be logged safely.
#[derive(Clone, PartialEq, Eq)]
pub struct HmacSecret(Vec<u8>);

impl HmacSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, JwtConfigError> {
        let secret = secret.into();
        if secret.len() < MIN_HMAC_SECRET_BYTES {
            return Err(JwtConfigError::SecretTooShort { len: secret.len() });
        }
        Ok(Self(secret))
    }

    /// The raw bytes, for signing and verifying only.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for HmacSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacSecret(<redacted>)")
    }
}

/// The key tokens are verified with. Each key pins exactly one algorithm, so a
/// token signed with any other (`none`, or HS256 with a public key as the
/// secret) is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtKey {
    /// A shared secret: tokens are HS256.
    Hs256 { secret: HmacSecret },
    /// A public key: tokens are RS256 or ES256, as the key says.
    PublicKey(PublicKeyPem),
}

impl JwtKey {
    /// An HS256 key; fails when `secret` is shorter than 32 bytes.
    pub fn hs256(secret: impl Into<Vec<u8>>) -> Result<Self, JwtConfigError> {
        Ok(Self::Hs256 {
            secret: HmacSecret::new(secret)?,
        })
    }

    /// A PEM public key; fails unless it is RSA (≥ 2048 bits) or EC P-256.
    pub fn from_public_key_pem(pem: &[u8]) -> Result<Self, JwtConfigError> {
        PublicKeyPem::parse(pem).map(Self::PublicKey)
    }

    /// A PEM public key read from a file (`JWT_PUBLIC_KEY_FILE`).
    pub fn from_public_key_file(path: impl AsRef<Path>) -> Result<Self, JwtConfigError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|source| JwtConfigError::ReadKeyFile {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_public_key_pem(&pem)
    }

    /// The one algorithm tokens must be signed with under this key.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256 { .. } => Algorithm::HS256,
            Self::PublicKey(key) => key.algorithm(),
        }
    }
}

/// A PEM public key whose algorithm is known: RS256 for an RSA key of at least
/// 2048 bits (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`), ES256 for an EC
/// P-256 key (SPKI). Built only by [`PublicKeyPem::parse`], so it never holds
/// a key of another kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyPem {
    pem: String,
    algorithm: Algorithm,
}

impl PublicKeyPem {
    /// Recognises the key with the RustCrypto parsers, which check its
    /// algorithm identifier and, for EC, its curve (jsonwebtoken would accept a
    /// P-384 key and then fail every ES256 verification).
    pub fn parse(pem: &[u8]) -> Result<Self, JwtConfigError> {
        let pem = std::str::from_utf8(pem).map_err(|_| JwtConfigError::UnsupportedPublicKey)?;
        let rsa = rsa::RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem));
        let algorithm = match rsa {
            Ok(rsa) if rsa.size() * 8 >= MIN_RSA_BITS => Algorithm::RS256,
            Ok(_) => return Err(JwtConfigError::UnsupportedPublicKey),
            Err(_) if p256::PublicKey::from_public_key_pem(pem).is_ok() => Algorithm::ES256,
            Err(_) => return Err(JwtConfigError::UnsupportedPublicKey),
        };
        Ok(Self {
            pem: pem.to_owned(),
            algorithm,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.pem.as_bytes()
    }
}

/// Everything [`TokenVerifier`](super::TokenVerifier) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub key: JwtKey,
    /// When set, a token's `iss` must be present and equal to it.
    pub issuer: Option<String>,
    /// When set, a token's `aud` must be present and contain it. When unset,
    /// any `aud` a token carries is ignored.
    pub audience: Option<String>,
}

impl JwtSettings {
    /// Settings with this key and no issuer or audience checks.
    pub fn new(key: JwtKey) -> Self {
        Self {
            key,
            issuer: None,
            audience: None,
        }
    }
}

/// The token configuration cannot be used; the server must not start with it.
#[derive(Debug, Error)]
pub enum JwtConfigError {
    #[error(
        "JWT secret is {len} bytes; HS256 needs at least {MIN_HMAC_SECRET_BYTES} (e.g. `openssl rand -base64 48`)"
    )]
    SecretTooShort { len: usize },
    #[error("cannot read JWT public key file {path}: {source}")]
    ReadKeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "JWT public key is not a PEM RSA (≥ 2048 bits) or EC P-256 public key; only RS256 and ES256 are supported"
    )]
    UnsupportedPublicKey,
    #[error("JWT key cannot be loaded")]
    InvalidKey(#[source] jsonwebtoken::errors::Error),
    #[error("tokens can only be issued with an HS256 secret, not with a public key")]
    IssuerNeedsSecret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused_with_its_length() {
        let err = JwtKey::hs256(vec![7u8; 31]).unwrap_err();
        assert!(matches!(err, JwtConfigError::SecretTooShort { len: 31 }));
        assert!(err.to_string().contains("at least 32"));
        assert!(JwtKey::hs256(vec![7u8; 32]).is_ok());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let key = JwtKey::hs256("a-very-secret-value-of-many-bytes!!").unwrap();
        let printed = format!("{:?}", JwtSettings::new(key));
        assert!(!printed.contains("very-secret"), "{printed}");
        assert!(printed.contains("redacted"));
    }
}
