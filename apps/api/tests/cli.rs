//! The binary from the outside: exit codes and output of its commands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::process::{Command, Output};

use notification_infrastructure::testing::{PrivatePostgres, PrivateRedis, TestCa};

const SECRET: &str = "cli-test-secret-that-is-at-least-32-bytes";

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_notification-api"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_short_jwt_secret_stops_start_up_with_exit_code_2_and_one_line() {
    let output = run(&["serve"], &[("JWT_SECRET", "too-short")]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("JWT_SECRET"), "{err}");
}

#[test]
fn an_unparsable_database_url_stops_start_up_naming_the_variable() {
    let output = run(
        &[],
        &[("DATABASE_URL", "mysql://nope"), ("JWT_SECRET", SECRET)],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("DATABASE_URL"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_bad_flag_value_names_the_variable() {
    let output = run(&["--ws-send-buffer", "lots"], &[("JWT_SECRET", SECRET)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("WS_SEND_BUFFER"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn token_prints_a_jwt_for_the_subject() {
    let sub = "123e4567-e89b-12d3-a456-426614174001";
    let output = run(
        &[
            "token",
            "--sub",
            sub,
            "--scope",
            "notifications:publish",
            "--ttl",
            "60",
        ],
        &[("JWT_SECRET", SECRET)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
}

#[test]
fn token_without_a_secret_or_with_a_bad_sub_exits_2() {
    let output = run(
        &["token", "--sub", "123e4567-e89b-12d3-a456-426614174001"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("JWT_SECRET"));
    let output = run(&["token", "--sub", "alice"], &[("JWT_SECRET", SECRET)]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let dir = std::env::temp_dir().join(format!("notification-cli-{}", uuid_like()));
    let db = dir.join("nested").join("n.db");
    let url = format!("sqlite://{}", db.display());
    let output = run(
        &["migrate"],
        &[("DATABASE_URL", &url), ("JWT_SECRET", SECRET)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(db.exists(), "{} was created", db.display());
    let _ = std::fs::remove_dir_all(dir);
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

#[test]
fn a_database_certificate_that_does_not_verify_stops_start_up_with_exit_code_2_and_one_line() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let server = PrivatePostgres::start_with_tls(&ca);
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        server.url(),
        other.ca_file().display()
    );

    let output = run(
        &["serve", "--bind-addr", "127.0.0.1:0"],
        &[("DATABASE_URL", &url), ("JWT_SECRET", SECRET)],
    );

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn a_redis_certificate_that_does_not_verify_stops_start_up_with_exit_code_2_and_one_line() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let redis = PrivateRedis::start_with_tls(&ca);
    let dir = std::env::temp_dir().join(format!("notification-cli-{}", uuid_like()));
    let database = format!("sqlite://{}", dir.join("n.db").display());
    let wrong_ca = other.ca_file().display().to_string();

    let output = run(
        &["serve", "--bind-addr", "127.0.0.1:0"],
        &[
            ("DATABASE_URL", &database),
            ("JWT_SECRET", SECRET),
            ("EVENT_BUS_URL", &redis.url()),
            ("TLS_CA_FILE", &wrong_ca),
        ],
    );

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("EVENT_BUS_URL") && err.contains("certificate"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_jwks_url_together_with_a_secret_stops_start_up_with_exit_code_2() {
    let output = run(
        &["serve"],
        &[
            ("JWT_JWKS_URL", "https://id.example/.well-known/jwks.json"),
            ("JWT_SECRET", SECRET),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("JWT_JWKS_URL"), "{err}");
}
