//! Another bounded context in the same binary creates notifications through
//! the application service: no HTTP, no hub, no SQL. See docs/embedding.md.
//!
//! Run with `cargo run -p notification-api --example embedding`.

use std::sync::Arc;

use notification_application::NotificationService;
use notification_domain::{NotificationDraft, NotificationType, UserId};
use notification_infrastructure::events::InProcessEventBus;
use notification_infrastructure::storage::{self, DatabaseUrl};

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
        let notification = self.notifications.create(draft).await?;
        println!("billing: notified {customer} ({})", notification.id());
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In the real binary these come from `Application::build`; the service is
    // the same object the REST handlers use, so sockets hear about it at once.
    let storage = storage::connect(&DatabaseUrl::parse("sqlite::memory:")?).await?;
    let bus = Arc::new(InProcessEventBus::new());
    let service = NotificationService::new(storage.repository(), bus);

    let billing = Billing {
        notifications: service.clone(),
    };
    let customer = UserId::from_uuid(uuid::Uuid::now_v7());
    billing.payment_received(customer, 12_345).await?;

    println!(
        "unread for {customer}: {}",
        service.unread_count(customer).await?
    );
    // Last, once nothing writes any more.
    storage.close().await;
    Ok(())
}
