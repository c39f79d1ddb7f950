//! # notification-client
//!
//! A Rust client for the notification service: typed REST calls and a
//! real-time subscription that never loses a notification.
//!
//! - [`config`]: where the server is, the token (and an optional provider of
//!   fresh ones), the reconnect back-off.
//! - [`client`]: [`NotificationClient`], one method per REST endpoint of the
//!   user's inbox; error bodies become [`ClientError::Api`].
//! - [`publish`]: [`NotificationClient::create`] for publishers, with an
//!   idempotency key every retry repeats.
//! - [`pages`]: [`NotificationClient::list_all`], a listing as one `Stream`.
//! - [`subscription`]: [`NotificationClient::subscribe`] opens the WebSocket
//!   and keeps it open: it reconnects with back-off and jitter, resumes with
//!   `?since_seq=<last seq yielded>`, yields every change once in `seq` order
//!   (a gap is filled from the changes feed, a `resync` asks the application
//!   to reload), refreshes the token in-band before it expires, and waits for
//!   a new token instead of hammering the server when the old one is refused.
//! - [`backoff`], [`token`]: the small pieces the subscription is made of,
//!   each testable alone.
//!
//! The wire types are those of `notification-protocol`, re-exported as
//! [`protocol`]; this crate defines none of its own. The guarantees are
//! written down in `docs/client.md`.
//!
//! ```no_run
//! use notification_client::{ClientConfig, Event, NotificationClient};
//!
//! # async fn run() -> Result<(), notification_client::ClientError> {
//! let client = NotificationClient::new(ClientConfig::new("http://127.0.0.1:8080", "<jwt>"))?;
//! println!("{} unread", client.unread_count().await?);
//! let mut subscription = client.subscribe();
//! while let Some(event) = subscription.next().await {
//!     match event {
//!         Event::Notification { notification, unread_count, seq } => {
//!             println!("#{seq} [{unread_count}] {}", notification.title)
//!         }
//!         Event::TokenRequired => subscription.set_token("<a fresh jwt>"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod backoff;
pub mod client;
pub mod config;
pub mod error;
pub mod pages;
pub mod publish;
pub mod subscription;
#[cfg(feature = "rustls")]
mod tls;
pub mod token;

pub use backoff::Backoff;
pub use client::{ListParams, NotificationClient};
pub use config::ClientConfig;
pub use error::ClientError;
pub use subscription::{DisconnectReason, Event, Subscription};
pub use token::TokenProvider;

/// The wire types, shared with the server.
pub use notification_protocol as protocol;
