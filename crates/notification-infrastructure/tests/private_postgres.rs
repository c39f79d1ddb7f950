//! The private PostgreSQL of outage tests really goes away and comes back,
//! keeping its data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use notification_infrastructure::testing::PrivatePostgres;
use sqlx::{Connection, Executor, PgConnection};

#[tokio::test]
async fn a_private_postgres_stops_refusing_connections_and_restarts_with_its_data() {
    let mut server = PrivatePostgres::start();
    let url = server.url();
    let mut connection = PgConnection::connect(&url).await.expect("it runs");
    connection
        .execute("CREATE TABLE kept (value INT); INSERT INTO kept VALUES (7)")
        .await
        .expect("it takes writes");
    // The session is closed by the fast shutdown; no goodbye is needed.
    drop(connection);

    server.stop();
    let refused = PgConnection::connect(&url).await;
    assert!(refused.is_err(), "a stopped server accepted a connection");

    server.restart();
    let mut connection = PgConnection::connect(&url).await.expect("it runs again");
    let value: i32 = sqlx::query_scalar("SELECT value FROM kept")
        .fetch_one(&mut connection)
        .await
        .expect("the table survived the restart");
    assert_eq!(value, 7);
}
