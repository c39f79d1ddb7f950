//! JWT verification (HS256), as every REST request and WebSocket upgrade
//! does it: signature, algorithm, `exp`/`nbf`, and a UUID `sub`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use notification_presentation::auth::{JwtKey, JwtSettings, TokenIssuer, TokenVerifier};
use notification_presentation::PUBLISH_SCOPE;
use uuid::Uuid;

const SECRET: &[u8] = b"benchmark-secret-of-at-least-32-bytes-long";

fn verify(c: &mut Criterion) {
    let key = JwtKey::hs256(SECRET.to_vec()).expect("a long enough secret");
    let issuer = TokenIssuer::new(&key).expect("an HS256 issuer");
    let verifier = TokenVerifier::new(JwtSettings::new(key)).expect("an HS256 verifier");
    let ttl = Duration::from_secs(3600);
    let user = issuer
        .issue(Uuid::new_v4(), None, ttl)
        .expect("a user token");
    let publisher = issuer
        .issue(Uuid::new_v4(), Some(PUBLISH_SCOPE), ttl)
        .expect("a publisher token");
    let other =
        TokenIssuer::new(&JwtKey::hs256(vec![7u8; 32]).expect("a secret")).expect("an issuer");
    let forged = other.issue(Uuid::new_v4(), None, ttl).expect("a token");

    let mut group = c.benchmark_group("jwt_verify");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hs256_user", |b| {
        b.iter(|| verifier.verify(black_box(&user)));
    });
    group.bench_function("hs256_publisher", |b| {
        b.iter(|| verifier.verify(black_box(&publisher)));
    });
    group.bench_function("hs256_wrong_key", |b| {
        b.iter(|| verifier.verify(black_box(&forged)));
    });
    group.finish();
}

fn quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = quick();
    targets = verify
}
criterion_main!(benches);
