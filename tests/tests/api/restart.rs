//! Data outlives the process: a server restarted on the same database keeps it.

use notification_e2e::{spawn_app_with, Backend};

async fn restart_keeps_the_data(backend: Backend) {
    let database_url = backend.database_url().await;
    let first = spawn_app_with(&database_url, &[]).await;
    let (user, token) = first.new_user();
    let created = first.create_for(user, "survives").await;
    let id = created["notification_id"].as_str().unwrap().to_owned();
    first.act(&token, &id, "read").await;
    first.stop().await;

    let second = spawn_app_with(&database_url, &[]).await;
    let (status, fetched) = second.get(&token, &id).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["title"], "survives");
    assert_eq!(fetched["status"], "READ");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_sqlite_file_keeps_the_data() {
    restart_keeps_the_data(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_postgres_database_keeps_the_data() {
    restart_keeps_the_data(Backend::Postgres).await
}
