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
//!
//! Conversions from domain types live here too, so every producer of a message
//! builds it the same way. With the `openapi` feature the types also describe
//! themselves for the generated OpenAPI document.

pub mod resource;
pub mod rest;
pub mod ws;

pub use resource::NotificationResource;
pub use rest::{
    CreateNotificationRequest, ErrorBody, ErrorCode, ErrorResponse, NotificationPage,
    ReadAllResponse, UnreadCountResponse,
};
pub use ws::{ClientMessage, ServerMessage, UpdateData, UpdateType};

/// The domain enums are the wire enums: their serde spelling is the contract's.
pub use notification_domain::{NotificationStatus, NotificationType};
