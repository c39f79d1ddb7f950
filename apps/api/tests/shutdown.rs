//! Graceful shutdown of the real process: SIGTERM → close 1001 on every
//! socket, then exit 0 within SHUTDOWN_TIMEOUT.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "shutdown-test-secret-that-is-32-bytes-long";

/// Starts the binary on a free port and returns it with its address, read
/// from its "listening" log line.
fn start_server(database: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notification-api"))
        .args(["--bind-addr", "127.0.0.1:0", "--shutdown-timeout", "5"])
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
    (child, address)
}

fn token(sub: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_notification-api"))
        .args(["token", "--sub", sub])
        .env("JWT_SECRET", SECRET)
        .output()
        .expect("token command runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_socket_with_1001_and_exits_0() {
    let dir = std::env::temp_dir().join(format!("notification-shutdown-{}", std::process::id()));
    let database = format!("sqlite://{}/n.db", dir.display());
    let (mut child, address) = start_server(&database);

    let user = "123e4567-e89b-12d3-a456-426614174001";
    let url = format!("ws://{address}/ws/notifications?token={}", token(user));
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("socket opens");
        sockets.push(socket);
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());

    for socket in &mut sockets {
        let code = loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("the close arrives in time")
                .expect("a close frame before the stream ends")
                .expect("a valid frame");
            if let Message::Close(frame) = frame {
                break frame.map(|f| u16::from(f.code));
            }
        };
        assert_eq!(code, Some(1001));
    }
    drop(sockets);

    // SHUTDOWN_TIMEOUT is 5 s; allow start-up noise on a busy machine on top.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("the process can be waited on") {
            break exit;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within the shutdown timeout");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
    let _ = std::fs::remove_dir_all(dir);
}
