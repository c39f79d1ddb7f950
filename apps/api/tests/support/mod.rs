//! The real `notification-api` process, for tests of what happens to it as a
//! process (crashes, restarts): started on a free port, its address read from
//! its "listening" log line, killed when dropped.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};

/// The HS256 secret every server of these tests is started with.
pub const SECRET: &str = "process-test-secret-that-is-32-bytes-long";

/// The scope that lets a token create notifications for any user.
pub const PUBLISH_SCOPE: &str = "notifications:publish";

/// A running `notification-api serve`.
pub struct ServerProcess {
    child: Child,
    address: String,
}

impl ServerProcess {
    /// Starts the binary on `database` and a free port; returns once it listens.
    pub fn start(database: &str) -> Self {
        Self::start_with(database, &[])
    }

    /// [`ServerProcess::start`] with extra command-line flags.
    pub fn start_with(database: &str, flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_notification-api"))
            .args(["--bind-addr", "127.0.0.1:0"])
            .args(flags)
            .env("DATABASE_URL", database)
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server logs before exiting")
                .expect("stdout is readable");
            if let Some(rest) = line.split("addr=").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, address }
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// `ws://host:port`.
    pub fn ws_base_url(&self) -> String {
        format!("ws://{}", self.address)
    }

    /// SIGKILL: the process dies at once, wherever it is, with no chance to
    /// finish a request, flush or close anything. Returns once it is gone.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        let status = self.child.wait().expect("the killed process is reaped");
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    }
}

impl ServerProcess {
    /// SIGTERM: what an orchestrator sends to stop the process gracefully.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM is delivered");
    }

    /// Waits for the process to exit on its own, at most `within`.
    ///
    /// # Panics
    /// When it is still running then (it is killed first).
    pub async fn exit_within(&mut self, within: std::time::Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be waited on") {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit within {within:?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token for `sub` signed with [`SECRET`], from the binary's `token` command.
pub fn token(sub: &str, scope: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_notification-api"));
    command
        .args(["token", "--sub", sub])
        .env("JWT_SECRET", SECRET);
    if let Some(scope) = scope {
        command.args(["--scope", scope]);
    }
    let output = command.output().expect("the token command runs");
    assert!(output.status.success(), "token: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
