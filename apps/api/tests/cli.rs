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

#[test]
fn prune_without_a_retention_or_with_a_bad_one_exits_2_naming_the_variable() {
    for env in [vec![], vec![("NOTIFICATION_RETENTION", "ninety days")]] {
        let mut env = env;
        env.push(("JWT_SECRET", SECRET));
        let output = run(&["prune"], &env);
        assert_eq!(output.status.code(), Some(2), "{env:?}");
        assert!(
            stderr(&output).contains("NOTIFICATION_RETENTION"),
            "{}",
            stderr(&output)
        );
    }
}

/// `prune` deletes what is older than the retention and exits 0, while
/// another process (here the test's own storage, with its writer connection
/// open, as a running server's) uses the same SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_old_notifications_beside_a_running_writer_and_exits_0() {
    use notification_domain::{now, Notification, NotificationDraft, NotificationId, UserId};
    use notification_infrastructure::background::BackgroundTasks;
    use notification_infrastructure::storage::{self, DatabaseUrl};

    let url = notification_infrastructure::testing::fresh_sqlite_url();
    let tasks = BackgroundTasks::new();
    let storage = storage::connect(&DatabaseUrl::parse(&url).unwrap(), &tasks)
        .await
        .unwrap();
    let repository = storage.repository();
    let user = UserId::from_uuid(uuid::Uuid::new_v4());
    let store = |age_days: u64| {
        let created_at = now() - std::time::Duration::from_secs(age_days * 86_400);
        let millis = u64::try_from(created_at.unix_timestamp_nanos() / 1_000_000).unwrap();
        let id = uuid::Builder::from_unix_timestamp_millis(millis, &[7; 10]).into_uuid();
        let draft = NotificationDraft::parse(user, "t", "m", None, None).unwrap();
        Notification::new(draft, NotificationId::from_uuid(id), created_at)
    };
    let (old, kept) = (store(100), store(10));
    repository.insert(&old).await.unwrap();
    repository.insert(&kept).await.unwrap();

    let output = tokio::task::spawn_blocking(move || {
        run(
            &["prune"],
            &[
                ("DATABASE_URL", &url),
                ("JWT_SECRET", SECRET),
                ("NOTIFICATION_RETENTION", "90d"),
            ],
        )
    })
    .await
    .unwrap();

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 expired"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(repository.get(user, old.id()).await.unwrap(), None);
    assert!(repository.get(user, kept.id()).await.unwrap().is_some());
    let position = repository.unread_count(user).await.unwrap();
    assert_eq!(
        (position.unread_count, position.seq),
        (1, 3),
        "create, create, delete"
    );
    tasks.shutdown().await;
    storage.close().await;
}
