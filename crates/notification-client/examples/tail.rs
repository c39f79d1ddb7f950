//! Prints a user's notifications and updates as they arrive, reconnecting
//! and resuming on its own.
//!
//! ```sh
//! cargo run -p notification-client --example tail -- --token "$USER_TOKEN" \
//!     [--base-url http://127.0.0.1:8080] [--since-seq <seq>]
//! ```
//!
//! Each change is printed with its `seq`, its place in the user's change
//! sequence: pass the last one printed as `--since-seq` to resume exactly
//! there. When the token is refused or expires, paste a fresh one on standard
//! input.

use clap::Parser;
use notification_client::{ClientConfig, Event, NotificationClient};
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, Parser)]
#[command(about = "Tail a user's notifications over the WebSocket")]
struct Args {
    /// The user's JWT.
    #[arg(long, env = "USER_TOKEN", hide_env_values = true)]
    token: String,
    /// Where the service listens.
    #[arg(long, env = "BASE_URL", default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// Also print every change after this `seq` first.
    #[arg(long)]
    since_seq: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let client = NotificationClient::new(ClientConfig::new(args.base_url, args.token))?;
    let mut subscription = match args.since_seq {
        Some(seq) => client.subscribe_after_seq(seq),
        None => client.subscribe(),
    };
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Some(event) = subscription.next().await {
        match event {
            Event::Connected => println!("● connected"),
            Event::Notification {
                notification: n,
                unread_count,
                seq,
            } => println!(
                "#{seq} [{unread_count} unread] {} {} {}: {} ({})",
                n.created_at.format(&Rfc3339).unwrap_or_default(),
                n.notification_type,
                n.title,
                n.message,
                n.notification_id
            ),
            Event::Update {
                notification_id,
                update_type,
                unread_count,
                seq,
                ..
            } => {
                let target = notification_id.map_or_else(|| "all".to_owned(), |id| id.to_string());
                println!("#{seq} [{unread_count} unread] {update_type:?} {target}");
            }
            Event::Resync { seq, unread_count } => println!(
                "● the changes before #{seq} are no longer kept: {unread_count} unread now; reload the inbox"
            ),
            Event::TokenRefreshed { expires_at } => {
                println!("● token refreshed until {expires_at}")
            }
            Event::Disconnected { reason, retry_in } => {
                println!("○ disconnected ({reason:?}), retrying in {retry_in:.1?}")
            }
            Event::TokenRequired => {
                println!("○ the token was refused or expired; paste a fresh one:");
                match stdin.next_line().await? {
                    Some(line) if !line.trim().is_empty() => subscription.set_token(line.trim()),
                    _ => break,
                }
            }
            Event::Stopped { reason } => {
                eprintln!("stopped: {reason:?}");
                std::process::exit(1);
            }
            // `Event` is non_exhaustive: a later release may add events.
            other => println!("● {other:?}"),
        }
    }
    Ok(())
}
