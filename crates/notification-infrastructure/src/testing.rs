//! Fresh databases for tests (feature `test-support`), shared by this crate's
//! tests and the end-to-end tests.
//!
//! Every call makes a new, empty database, so tests never see each other's
//! data. Leftovers of earlier runs older than [`STALE_AFTER`] are removed on the
//! way. PostgreSQL being down is a test failure (a panic), never a skip.
//!
//! Tests that take a dependency away run their own server, so the shared ones
//! keep serving every other test: [`PrivateRedis`] and [`PrivatePostgres`].
//! Both can serve TLS with the certificates of a [`TestCa`].

mod private_postgres;
mod test_ca;

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};
use url::Url;
use uuid::Uuid;

use crate::storage::DatabaseUrl;

pub use private_postgres::{PrivatePostgres, TEST_POSTGRES_BIN_DIR_VAR};
pub use test_ca::TestCa;

/// Where the test PostgreSQL server is: any database of it that the user may
/// connect to and create databases from.
pub const TEST_POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Test databases are named `nt_<unix seconds>_<random>`.
const DATABASE_PREFIX: &str = "nt_";
/// Test databases and folders older than this belong to finished runs.
pub const STALE_AFTER: Duration = Duration::from_secs(2 * 60 * 60);
/// A server that does not answer within this is as good as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates an empty PostgreSQL database and returns its URL.
///
/// # Panics
/// When PostgreSQL (at `TEST_POSTGRES_URL`, by default
/// `postgres://postgres@127.0.0.1:5432/postgres`) cannot be reached or refuses
/// to create the database.
pub async fn fresh_postgres_database() -> String {
    let server_url = std::env::var(TEST_POSTGRES_URL_VAR)
        .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned());
    let shown = DatabaseUrl::parse(&server_url)
        .unwrap_or_else(|e| panic!("{TEST_POSTGRES_URL_VAR}: {e}"))
        .to_string();
    let unreachable = |reason: String| -> ! {
        panic!(
            "PostgreSQL is required by these tests and cannot be reached at {shown}: {reason}. \
             Start it, or set {TEST_POSTGRES_URL_VAR} to a server that accepts connections."
        )
    };
    let mut server =
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(&server_url)).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => unreachable(e.to_string()),
            Err(_) => unreachable(format!("no answer within {CONNECT_TIMEOUT:?}")),
        };

    drop_stale_databases(&mut server).await;
    let name = format!(
        "{DATABASE_PREFIX}{}_{}",
        unix_seconds(SystemTime::now()),
        &Uuid::new_v4().simple().to_string()[..12]
    );
    server
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name} at {shown}: {e}"));
    // The database exists either way; a failed goodbye does not matter.
    let _ = server.close().await;

    let mut url = Url::parse(&server_url)
        .unwrap_or_else(|e| panic!("{TEST_POSTGRES_URL_VAR} is not a URL: {e}"));
    url.set_path(&format!("/{name}"));
    url.into()
}

/// A `sqlite://` URL of a database file in a new, not yet existing folder
/// under the system's temporary folder (`connect` creates both).
pub fn fresh_sqlite_url() -> String {
    let root = std::env::temp_dir().join("notification-tests");
    remove_stale_folders(&root);
    let path = root
        .join(Uuid::new_v4().simple().to_string())
        .join("notifications.db");
    format!("sqlite://{}", path.display())
}

/// Drops test databases of earlier runs. One still in use (another run that
/// lasts long, or a race with another process cleaning up) cannot be dropped:
/// that error is ignored, the next run will try again.
async fn drop_stale_databases(server: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar(r"SELECT datname FROM pg_database WHERE datname LIKE 'nt\_%'")
            .fetch_all(&mut *server)
            .await
            .unwrap_or_default();
    let now = unix_seconds(SystemTime::now());
    for name in names {
        let Some(created) = test_database_created_at(&name) else {
            continue;
        };
        if now.saturating_sub(created) > STALE_AFTER.as_secs() {
            let _ = server
                .execute(format!(r#"DROP DATABASE IF EXISTS "{name}""#).as_str())
                .await;
        }
    }
}

/// The creation time written into a test database's name, or `None` for a
/// database that is not one of ours.
fn test_database_created_at(name: &str) -> Option<u64> {
    let (seconds, random) = name.strip_prefix(DATABASE_PREFIX)?.split_once('_')?;
    let ours = !random.is_empty() && random.bytes().all(|b| b.is_ascii_hexdigit());
    ours.then(|| seconds.parse().ok()).flatten()
}

/// Whether a folder of an earlier run was last changed more than
/// [`STALE_AFTER`] ago.
fn is_stale(entry: &std::fs::DirEntry) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > STALE_AFTER)
}

/// Removes test folders last changed before [`STALE_AFTER`]; best effort.
fn remove_stale_folders(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if is_stale(&entry) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A local TCP port that nothing listens on right now (the OS picks it).
fn free_local_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free local port")
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// How long a private `redis-server` may take to accept connections.
const REDIS_START_DEADLINE: Duration = Duration::from_secs(10);
const REDIS_POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A `redis-server` of this test's own, killed when dropped.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
    /// `--tls-*` arguments when it serves TLS only.
    tls: Vec<String>,
}

impl PrivateRedis {
    /// Starts one on a free port and waits until it accepts connections.
    pub fn start() -> Self {
        Self::start_with(Vec::new())
    }

    /// Starts one that speaks TLS only (`--port 0 --tls-port …`), with the
    /// server certificate of `ca`, and no client certificates asked for.
    pub fn start_with_tls(ca: &TestCa) -> Self {
        let path = |p: std::path::PathBuf| p.display().to_string();
        Self::start_with(vec![
            "--tls-cert-file".to_owned(),
            path(ca.server_cert_file()),
            "--tls-key-file".to_owned(),
            path(ca.server_key_file()),
            "--tls-ca-cert-file".to_owned(),
            path(ca.ca_file()),
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
        ])
    }

    fn start_with(tls: Vec<String>) -> Self {
        let port = free_local_port();
        let mut server = Self {
            port,
            child: None,
            tls,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://…` when it serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_empty() {
            "redis"
        } else {
            "rediss"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL): no goodbye to its clients.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A frozen server must be thawed to die.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes (`true`, SIGSTOP) or thaws (`false`, SIGCONT) the server: while
    /// frozen its connections stay open but nothing is answered, as with a
    /// network partition.
    pub fn freeze(&self, frozen: bool) {
        let child = self
            .child
            .as_ref()
            .expect("the private redis-server is not running");
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("`kill` could not be run");
        assert!(status.success(), "kill {signal} failed: {status}");
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the private redis-server still runs");
        let port = self.port.to_string();
        let ports: &[&str] = if self.tls.is_empty() {
            &["--port", &port]
        } else {
            &["--port", "0", "--tls-port", &port]
        };
        let spawned = Command::new("redis-server")
            .args(ports)
            .args(&self.tls)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "this test needs the `redis-server` program and it is not on PATH \
                 (install it, e.g. `apt-get install redis-server`)"
            ),
            Err(e) => panic!("redis-server could not be started: {e}"),
        };
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = std::time::Instant::now() + REDIS_START_DEADLINE;
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let mut output = String::new();
                if let Some(mut stdout) = child.stdout.take() {
                    let _ = stdout.read_to_string(&mut output);
                }
                panic!(
                    "redis-server did not start on port {} (exit: {exited:?}): {output}",
                    self.port
                );
            }
            std::thread::sleep(REDIS_POLL_INTERVAL);
        }
        self.child = Some(child);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_databases_named_like_ours_are_recognised() {
        assert_eq!(
            test_database_created_at("nt_1767200000_ab12cd34ef56"),
            Some(1_767_200_000)
        );
        for other in [
            "nt_",
            "nt_abc_12",
            "nt_123",
            "nt_123_",
            "nt_123_xyz",
            "postgres",
        ] {
            assert_eq!(test_database_created_at(other), None, "{other}");
        }
    }

    #[test]
    fn fresh_sqlite_urls_are_distinct_absolute_files() {
        let (a, b) = (fresh_sqlite_url(), fresh_sqlite_url());
        assert_ne!(a, b);
        assert!(a.starts_with("sqlite:///"), "{a}");
        assert!(DatabaseUrl::parse(&a).is_ok());
    }
}
