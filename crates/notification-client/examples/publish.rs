//! Publishes one notification to a user, as a backend service would.
//!
//! ```sh
//! cargo run -p notification-client --example publish -- --token "$PUBLISHER_TOKEN" \
//!     --user-id <uuid> --title "Build finished" --message "main is green" \
//!     [--idempotency-key <key>] [--base-url http://127.0.0.1:8080]
//! ```
//!
//! Without `--idempotency-key` one is generated; either way a failed or
//! timed-out attempt is retried with the same key, so the user is notified
//! once. Pass the same key again to see the first result returned.

use clap::Parser;
use notification_client::protocol::CreateNotificationRequest;
use notification_client::{ClientConfig, NotificationClient};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Publish a notification to a user")]
struct Args {
    /// A publisher token.
    #[arg(long, env = "PUBLISHER_TOKEN", hide_env_values = true)]
    token: String,
    /// Where the service listens.
    #[arg(long, env = "BASE_URL", default_value = "http://127.0.0.1:8080")]
    base_url: String,
    #[arg(long)]
    user_id: Uuid,
    #[arg(long)]
    title: String,
    #[arg(long)]
    message: String,
    /// The key that makes repeats harmless (e.g. the id of the event).
    #[arg(long)]
    idempotency_key: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let client = NotificationClient::new(ClientConfig::new(args.base_url, args.token))?;
    let draft = CreateNotificationRequest {
        user_id: args.user_id,
        title: args.title,
        message: args.message,
        notification_type: None,
        metadata: None,
    };
    let created = match &args.idempotency_key {
        Some(key) => client.create_with_key(&draft, key).await?,
        None => client.create(&draft).await?,
    };
    println!("{} ({})", created.notification_id, created.status);
    Ok(())
}
