//! # notification-protocol
//!
//! The JSON that crosses the wire, defined once and shared by the server, the
//! end-to-end tests, the load tool and client SDKs:
//!
//! - [`resource`]: the notification resource of contract §3, the REST
//!   representation and the `data` of a WebSocket `notification` message.
//! - [`rest`]: request and response bodies of the REST API (§4) and the error
//!   shape of every endpoint (§2).
//! - [`ws`]: WebSocket messages in both directions (§5).
//! - [`kinds`]: the notification's type and status, spelled as on the wire.
//!
//! The crate is a leaf: it defines its own types and depends on nothing of the
//! server. With the `domain` feature (enabled by the server's crates only) it
//! also converts from the domain's types, so every producer of a message
//! builds it the same way. With the `openapi` feature the types also describe
//! themselves for the generated OpenAPI document.

#[cfg(feature = "domain")]
mod from_domain;
pub mod kinds;
pub mod resource;
pub mod rest;
pub mod ws;

pub use kinds::{NotificationStatus, NotificationType};
pub use resource::NotificationResource;
pub use rest::{
    BatchResource, ChangesPage, CreateBatchRequest, CreateNotificationRequest, ErrorBody,
    ErrorCode, ErrorResponse, NotificationPage, ReadAllResponse, UnreadCountResponse,
    MAX_BATCH_ITEMS,
};
pub use ws::{ClientMessage, ServerMessage, UpdateData, UpdateType};
