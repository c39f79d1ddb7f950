//! A PostgreSQL server of one test's own, for tests that take the database
//! away (outages): stopping the shared test server would break every other
//! test running at the same time.
//!
//! It is a real cluster made with the PostgreSQL server programs (`initdb`,
//! `pg_ctl`) in a temporary folder, listening on 127.0.0.1 on a free port with
//! trust authentication. PostgreSQL refuses to run as root, so when the tests
//! run as root the programs run as the `postgres` user (`runuser`), in a folder
//! that user owns. Missing programs are a test failure with a message saying
//! what to install, never a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use uuid::Uuid;

use super::{free_local_port, is_stale, TestCa};

/// Where the server programs are when they are neither in the Debian/Ubuntu
/// place nor on `PATH` (e.g. `/usr/local/pgsql/bin`).
pub const TEST_POSTGRES_BIN_DIR_VAR: &str = "TEST_POSTGRES_BIN_DIR";

/// The account the server runs as when the tests run as root.
const SERVER_ACCOUNT: &str = "postgres";

/// Longest wait for the server to accept connections, or to stop.
const PG_CTL_WAIT_SECONDS: &str = "30";

/// A PostgreSQL server of this test's own: started by [`PrivatePostgres::start`],
/// stopped at once and its folder removed when dropped.
pub struct PrivatePostgres {
    programs: Programs,
    /// Holds `data/` (the cluster), `server.log` and the Unix socket.
    folder: PathBuf,
    port: u16,
    running: bool,
}

impl PrivatePostgres {
    /// Creates a new cluster on a free port and starts it.
    ///
    /// # Panics
    /// When the PostgreSQL server programs cannot be found or the cluster
    /// cannot be created or started (the message says why).
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// [`Self::start`] with TLS on (`ssl = on`), serving the server
    /// certificate of `ca`: its key is copied into the cluster's folder,
    /// owned by the server's account with mode 0600 as PostgreSQL demands.
    pub fn start_with_tls(ca: &TestCa) -> Self {
        Self::start_with(Some(ca))
    }

    fn start_with(tls: Option<&TestCa>) -> Self {
        let programs = Programs::find();
        let root = std::env::temp_dir().join("notification-tests-postgres");
        remove_stale_clusters(&root, &programs);
        let folder = root.join(Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&folder)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", folder.display()));
        programs.hand_over(&root, &folder);

        let port = free_local_port();
        let mut server = Self {
            programs,
            folder,
            port,
            running: false,
        };
        server.create_cluster();
        if let Some(ca) = tls {
            server.turn_tls_on(ca);
        }
        server.restart();
        server
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server with a fast shutdown: open transactions are rolled
    /// back, every client connection is closed, and the port stops accepting.
    /// Returns once the server is down.
    pub fn stop(&mut self) {
        assert!(self.running, "the private PostgreSQL is not running");
        let output = self.pg_ctl(&["stop", "-m", "fast"]);
        self.running = false;
        self.expect_success("stop", &output);
    }

    /// Starts the server (again) on the same port and data, stopping it first
    /// if it runs. Returns once it accepts connections.
    pub fn restart(&mut self) {
        if self.running {
            self.stop();
        }
        let log = self.folder.join("server.log");
        let log = log.to_string_lossy();
        let output = self.pg_ctl(&["start", "-l", &log]);
        self.expect_success("start", &output);
        self.running = true;
    }

    fn data(&self) -> PathBuf {
        self.folder.join("data")
    }

    /// `initdb`, then the settings of a disposable test server.
    fn create_cluster(&self) {
        let data = self.data();
        let output = self
            .programs
            .command("initdb", &self.folder)
            .arg("-D")
            .arg(&data)
            .args(["-U", SERVER_ACCOUNT, "-A", "trust", "-E", "UTF8"])
            // No fsync of the new files: the cluster lives for one test.
            .args(["--locale=C", "--no-sync"])
            .output();
        let output = output.unwrap_or_else(|e| panic!("initdb could not be run: {e}"));
        self.expect_success("initdb", &output);

        // Durability switches are off; these tests never cut power.
        let settings = format!(
            "\n# notification-infrastructure test settings\n\
             port = {port}\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 16MB\n\
             max_connections = 50\n",
            port = self.port,
            socket = self.folder.display(),
        );
        self.append_settings(&settings);
    }

    /// Copies the certificate and key beside the cluster and appends the
    /// settings that serve them.
    fn turn_tls_on(&self, ca: &TestCa) {
        let cert = self.folder.join("server.crt");
        let key = self.folder.join("server.key");
        for (from, to) in [(ca.server_cert_file(), &cert), (ca.server_key_file(), &key)] {
            std::fs::copy(&from, to).unwrap_or_else(|e| {
                panic!("cannot copy {} to {}: {e}", from.display(), to.display())
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", key.display()));
        }
        self.programs.give(&[&cert, &key]);
        self.append_settings(&format!(
            "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
            cert.display(),
            key.display()
        ));
    }

    /// Appended by us (the owner of the folder or root): the server reads
    /// it as its own.
    fn append_settings(&self, settings: &str) {
        let config = self.data().join("postgresql.conf");
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .open(&config)
            .and_then(|mut file| std::io::Write::write_all(&mut file, settings.as_bytes()));
        appended.unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
    }

    fn pg_ctl(&self, action: &[&str]) -> Output {
        self.programs
            .command("pg_ctl", &self.folder)
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", PG_CTL_WAIT_SECONDS])
            .args(action)
            .output()
            .unwrap_or_else(|e| panic!("pg_ctl could not be run: {e}"))
    }

    fn expect_success(&self, what: &str, output: &Output) {
        if output.status.success() {
            return;
        }
        let log = std::fs::read_to_string(self.folder.join("server.log")).unwrap_or_default();
        panic!(
            "private PostgreSQL: {what} failed ({status}) on port {port}\n\
             stdout: {stdout}\nstderr: {stderr}\nserver log:\n{log}",
            status = output.status,
            port = self.port,
            stdout = String::from_utf8_lossy(&output.stdout),
            stderr = String::from_utf8_lossy(&output.stderr),
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.running {
            // Immediate: the test is over, nothing needs a clean shutdown.
            let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The PostgreSQL server programs, and who runs them.
struct Programs {
    bin: PathBuf,
    /// `Some("postgres")` when this process is root, which PostgreSQL refuses.
    run_as: Option<&'static str>,
}

impl Programs {
    /// Looks in `TEST_POSTGRES_BIN_DIR`, then the newest
    /// `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu), then `PATH`.
    fn find() -> Self {
        let has_programs =
            |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
        let from_env = std::env::var_os(TEST_POSTGRES_BIN_DIR_VAR).map(PathBuf::from);
        if let Some(dir) = &from_env {
            assert!(
                has_programs(dir),
                "{TEST_POSTGRES_BIN_DIR_VAR}={} has no initdb and pg_ctl",
                dir.display()
            );
        }
        let bin = from_env
            // A client-only install has this folder too, without the server.
            .or_else(|| newest_debian_bin_dir().filter(|dir| has_programs(dir)))
            .or_else(|| {
                std::env::var_os("PATH")
                    .and_then(|path| std::env::split_paths(&path).find(|dir| has_programs(dir)))
            })
            .unwrap_or_else(|| {
                panic!(
                    "this test runs a private PostgreSQL server and needs the PostgreSQL \
                     server programs (initdb, pg_ctl), which were found neither in \
                     /usr/lib/postgresql/<version>/bin nor on PATH. Install them \
                     (`apt-get install postgresql`) or set {TEST_POSTGRES_BIN_DIR_VAR}."
                )
            });
        let run_as = is_root().then_some(SERVER_ACCOUNT);
        Self { bin, run_as }
    }

    /// `program` of the server, run as the server account, in `folder` (a
    /// working directory the server account may enter).
    fn command(&self, program: &str, folder: &Path) -> Command {
        let path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(account) => {
                let mut command = Command::new("runuser");
                command.args(["-u", account, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        };
        command
            .current_dir(folder)
            .stdin(Stdio::null())
            // Messages in English whatever the machine's language.
            .env("LC_ALL", "C");
        command
    }

    /// Lets the server account use `folder` (and reach it through `root`).
    fn hand_over(&self, root: &Path, folder: &Path) {
        if self.run_as.is_none() {
            return;
        }
        // Root's umask may hide the shared parent from other accounts.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755));
        }
        self.give(&[folder]);
    }

    /// Makes the server account the owner of `paths` (when it is not us).
    fn give(&self, paths: &[&Path]) {
        let Some(account) = self.run_as else {
            return;
        };
        let status = Command::new("chown")
            .arg(format!("{account}:"))
            .args(paths)
            .status()
            .unwrap_or_else(|e| panic!("chown could not be run: {e}"));
        assert!(
            status.success(),
            "cannot give {paths:?} to the `{account}` account (does it exist? \
             `apt-get install postgresql` creates it)"
        );
    }
}

/// The `bin` folder of the newest version under `/usr/lib/postgresql`.
fn newest_debian_bin_dir() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Stops and removes clusters of earlier runs that were killed before they
/// could clean up (older than [`super::STALE_AFTER`]); best effort.
fn remove_stale_clusters(root: &Path, programs: &Programs) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if is_stale(&entry) {
            let folder = entry.path();
            let _ = programs
                .command("pg_ctl", &folder)
                .arg("-D")
                .arg(folder.join("data"))
                .args(["stop", "-m", "immediate"])
                .output();
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}
