//! Key pairs for the token-algorithm tests: the PEM fixtures the presentation
//! crate's key-loading tests use too (one copy, kept there), and signing with
//! any algorithm and key.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::Value;

/// The path of the PEM fixture `name`.
pub fn fixture_path(name: &str) -> String {
    format!(
        "{}/../crates/notification-presentation/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The text of the PEM fixture `name`.
pub fn fixture(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn hs256_key(secret: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(secret)
}

pub fn rsa_key(fixture_name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(fixture(fixture_name).as_bytes()).expect("an RSA private key")
}

pub fn ec_key(fixture_name: &str) -> EncodingKey {
    EncodingKey::from_ec_pem(fixture(fixture_name).as_bytes()).expect("an EC private key")
}

/// Signs arbitrary claims with `algorithm` and `key`.
pub fn sign_with(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    encode(&Header::new(algorithm), claims, key).expect("the key fits the algorithm")
}
