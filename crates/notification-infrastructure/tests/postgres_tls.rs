//! TLS to PostgreSQL: a private server with `ssl = on` and a certificate
//! signed by a CA of the test's own, reached through `DATABASE_URL`'s
//! `sslmode=` and `sslrootcert=`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::storage::{self, DatabaseUrl, Storage, StorageError};
use notification_infrastructure::testing::{PrivatePostgres, TestCa};
use notification_infrastructure::tls::install_crypto_provider;
use sqlx::{Connection, PgConnection};

fn url(server: &PrivatePostgres, parameters: &str) -> String {
    format!("{}?{parameters}", server.url())
}

async fn open(url: &str) -> Result<Storage, StorageError> {
    install_crypto_provider();
    let tasks = BackgroundTasks::new();
    let opened = storage::connect(&DatabaseUrl::parse(url).unwrap(), &tasks).await;
    tasks.shutdown().await;
    opened
}

/// Whether a session opened with `url` is encrypted, as the server sees it.
async fn session_uses_tls(url: &str) -> bool {
    let mut connection = PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn sslmode_require_opens_the_database_over_tls() {
    let ca = TestCa::new();
    let server = PrivatePostgres::start_with_tls(&ca);
    let require = url(&server, "sslmode=require");

    let storage = open(&require).await.unwrap();

    storage.close().await;
    assert!(session_uses_tls(&require).await);
    assert!(!session_uses_tls(&url(&server, "sslmode=disable")).await);
}

#[tokio::test]
async fn verify_full_with_the_servers_ca_opens_the_database() {
    let ca = TestCa::new();
    let server = PrivatePostgres::start_with_tls(&ca);
    let verify_full = url(
        &server,
        &format!("sslmode=verify-full&sslrootcert={}", ca.ca_file().display()),
    );

    let storage = open(&verify_full).await.unwrap();

    storage.close().await;
    assert!(session_uses_tls(&verify_full).await);
}

#[tokio::test]
async fn verify_full_and_verify_ca_with_another_ca_fail_as_a_certificate_error() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let server = PrivatePostgres::start_with_tls(&ca);

    for mode in ["verify-full", "verify-ca"] {
        let wrong = url(
            &server,
            &format!("sslmode={mode}&sslrootcert={}", other.ca_file().display()),
        );
        let error = open(&wrong).await.err().expect("the wrong CA was accepted");

        assert!(
            matches!(error, StorageError::Certificate { .. }),
            "{mode}: {error:?}"
        );
        assert!(error.is_configuration(), "{mode}");
        assert!(!error.to_string().contains('\n'), "{error}");
    }
}
