//! Another bounded context in the same binary creates notifications through
//! the application service: no HTTP, no hub, no SQL. See docs/embedding.md.
//!
//! It takes the very `NotificationService` the REST handlers use from
//! `Application::notification_service`, so what billing creates is stored
//! and pushed to the customer's open sockets exactly like a
//! `POST /api/v1/notifications`.
//!
//! Run with `cargo run -p notification-api --example embedding`.

use clap::Parser;
use notification_api::cli::Cli;
use notification_api::{Application, Settings};
use notification_application::NotificationService;
use notification_domain::{NotificationDraft, NotificationType, UserId};

/// The billing context: it knows about payments, not about sockets.
struct Billing {
    notifications: NotificationService,
}

impl Billing {
    async fn payment_received(
        &self,
        customer: UserId,
        cents: u64,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let draft = NotificationDraft::parse(
            customer,
            "Payment received",
            &format!(
                "We received your payment of {}.{:02}",
                cents / 100,
                cents % 100
            ),
            Some(NotificationType::Success),
            Some(serde_json::json!({ "amount_cents": cents })),
        )?;
        let notification = self
            .notifications
            .create(draft, None)
            .await?
            .into_notification();
        println!("billing: notified {customer} ({})", notification.id());
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The settings the binary reads from its flags and environment; here an
    // in-memory database, a free port and dev-mode tokens.
    let cli = Cli::try_parse_from([
        "notification-api",
        "--bind-addr",
        "127.0.0.1:0",
        "--database-url",
        "sqlite::memory:",
    ])?;
    let application = Application::build(Settings::from_args(&cli.config)?).await?;
    let billing = Billing {
        notifications: application.notification_service(),
    };
    let service = application.notification_service();
    let shutdown = application.shutdown_handle();
    let server = tokio::spawn(application.run_until_stopped());

    let customer = UserId::from_uuid(uuid::Uuid::now_v7());
    billing.payment_received(customer, 12_345).await?;
    println!(
        "unread for {customer}: {}",
        service.unread_count(customer).await?.unread_count
    );

    shutdown.shutdown().await;
    server.await??;
    Ok(())
}
