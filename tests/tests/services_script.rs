//! `scripts/services.sh` (run by `scripts/test.sh`) checks the Redis that
//! `TEST_REDIS_URL` names, not whatever happens to listen on 6379.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

fn services_sh(redis_url: &str) -> Output {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/services.sh");
    Command::new("bash")
        .arg(script)
        .env("TEST_REDIS_URL", redis_url)
        // PostgreSQL is not what these tests are about: the script leaves it
        // alone when a URL is given.
        .env(
            "TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .output()
        .expect("bash runs")
}

#[test]
fn a_redis_elsewhere_that_answers_is_accepted_without_starting_one() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("bound").port();

    let output = services_sh(&format!("redis://:secret@127.0.0.1:{port}/3"));

    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("starting Redis"), "{stdout}");
}

#[test]
fn a_redis_elsewhere_that_does_not_answer_fails_and_names_the_variable() {
    // A remote address is never started here, whatever listens on 6379.
    let closed = TcpListener::bind("127.0.0.2:0").expect("a free port");
    let port = closed.local_addr().expect("bound").port();
    drop(closed);

    let output = services_sh(&format!("redis://127.0.0.2:{port}"));

    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("127.0.0.2:{port}")), "{stderr}");
    assert!(stderr.contains("TEST_REDIS_URL"), "{stderr}");
}
