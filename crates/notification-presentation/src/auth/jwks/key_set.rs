//! One JSON Web Key Set, read into the keys tokens may be verified with.
//!
//! Identity providers publish more than we can use (encryption keys, other
//! algorithms): such a key is skipped, named in the log, never an error for
//! the whole set. A key is used only for the one algorithm its type pins
//! (RSA → RS256, EC P-256 → ES256), so a token cannot pick another.

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::auth::settings::MIN_RSA_BITS;

/// A key of the set that tokens may be verified with.
pub(crate) struct VerifyingKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one fetched set.
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
}

/// What was read: the keys, and why each skipped key was skipped (for the log).
pub(crate) struct ReadSet {
    pub(crate) set: KeySet,
    pub(crate) skipped: Vec<String>,
}

/// The document as a whole cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeySetError {
    #[error("not a JWK set (a JSON object with `keys`): {0}")]
    NotAKeySet(#[source] serde_json::Error),
    #[error("no usable key (RS256 or ES256 signature keys); skipped: {0}")]
    NoUsableKey(String),
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    pub(crate) fn parse(json: &[u8]) -> Result<ReadSet, KeySetError> {
        let raw: RawSet = serde_json::from_slice(json).map_err(KeySetError::NotAKeySet)?;
        let mut keys = Vec::with_capacity(raw.keys.len());
        let mut skipped = Vec::new();
        for (index, value) in raw.keys.into_iter().enumerate() {
            match usable_key(value) {
                Ok(key) => keys.push(key),
                Err(why) => skipped.push(format!("keys[{index}]: {why}")),
            }
        }
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey(skipped.join("; ")));
        }
        Ok(ReadSet {
            set: Self { keys },
            skipped,
        })
    }

    /// The key for a token's `kid`. A token without `kid` is verified only
    /// when the set holds a single key: guessing among several would let a
    /// provider's rotation quietly change which key signs.
    pub(crate) fn find(&self, kid: Option<&str>) -> Option<&VerifyingKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|key| key.kid.as_deref() == Some(kid)),
            None => match self.keys.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
    }

    /// The `kid`s of the set, for the log.
    pub(crate) fn kids(&self) -> Vec<&str> {
        self.keys
            .iter()
            .map(|key| key.kid.as_deref().unwrap_or("<none>"))
            .collect()
    }
}

fn usable_key(value: serde_json::Value) -> Result<VerifyingKey, String> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|e| format!("unreadable ({e})"))?;
    if let Some(usage) = &jwk.common.public_key_use {
        if *usage != PublicKeyUse::Signature {
            return Err("not a signature key (`use`)".to_owned());
        }
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let bits = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map(|n| significant_bits(&n))
                .map_err(|_| "RSA modulus is not base64url".to_owned())?;
            if bits < MIN_RSA_BITS {
                return Err(format!("RSA key of {bits} bits (at least {MIN_RSA_BITS})"));
            }
            Algorithm::RS256
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return Err("neither an RSA nor an EC P-256 key".to_owned()),
    };
    let declared = jwk.common.key_algorithm;
    let agrees = match declared {
        None => true,
        Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
        Some(_) => false,
    };
    if !agrees {
        return Err(format!(
            "`alg` {declared:?} is not RS256 or ES256 for this key"
        ));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable key ({e})"))?;
    Ok(VerifyingKey {
        kid: jwk.common.key_id,
        algorithm,
        key,
    })
}

/// Bits of a big-endian unsigned number, leading zeros not counted.
fn significant_bits(bytes: &[u8]) -> usize {
    match bytes.iter().position(|byte| *byte != 0) {
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_ignore_leading_zeros() {
        assert_eq!(significant_bits(&[0, 0x01, 0]), 9);
        assert_eq!(significant_bits(&[0xff; 256]), 2048);
        assert_eq!(significant_bits(&[0, 0]), 0);
    }

    #[test]
    fn a_document_without_keys_is_not_a_key_set() {
        assert!(matches!(
            KeySet::parse(br#"{"issuer": "x"}"#),
            Err(KeySetError::NotAKeySet(_))
        ));
    }

    #[test]
    fn unusable_keys_are_skipped_and_a_set_of_only_those_is_refused() {
        let json = br#"{"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "small", "n": "AQAB", "e": "AQAB"},
            {"what": "ever"}
        ]}"#;
        let Err(KeySetError::NoUsableKey(why)) = KeySet::parse(json) else {
            panic!("a set of unusable keys was accepted");
        };
        for index in 0..4 {
            assert!(why.contains(&format!("keys[{index}]")), "{why}");
        }
    }
}
