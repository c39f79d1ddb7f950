//! REST bodies (contract §4) and the error shape (§2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::kinds::NotificationType;
use crate::resource::NotificationResource;
use crate::ws::ServerMessage;

/// Body of `POST /api/v1/notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateNotificationRequest {
    pub user_id: Uuid,
    /// 1–255 characters after trimming.
    pub title: String,
    /// 1–4096 characters.
    pub message: String,
    /// Defaults to `INFO`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::notification_type_optional))]
    pub notification_type: Option<NotificationType>,
    /// A JSON object of at most 8 KiB serialized; defaults to `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<Map<String, Value>>,
}

/// Most items one `POST /api/v1/notifications/batch` takes (at least 1).
pub const MAX_BATCH_ITEMS: usize = 1000;

/// Body of `POST /api/v1/notifications/batch`: 1–[`MAX_BATCH_ITEMS`] creates,
/// stored all or nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateBatchRequest {
    pub notifications: Vec<CreateNotificationRequest>,
}

/// Answer of `POST /api/v1/notifications/batch`: the created notifications,
/// in the request's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchResource {
    pub notifications: Vec<NotificationResource>,
}

/// Body of `GET /api/v1/notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPage {
    pub items: Vec<NotificationResource>,
    /// Pass as `?cursor=` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The number of the user's latest change, read in the same snapshot as
    /// `items` (contract §7): changes after it are not in this page.
    /// (0 from a server older than v2.)
    #[serde(default)]
    pub seq: u64,
}

/// Body of `GET /api/v1/notifications/unread-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCountResponse {
    pub unread_count: u64,
    /// The number of the user's latest change, the one `unread_count` is
    /// right after (contract §7; 0 before the first, and from a server older
    /// than v2).
    #[serde(default)]
    pub seq: u64,
}

/// Body of `GET /api/v1/changes` (contract §7): the user's changes after
/// `after_seq`, for clients that poll instead of holding a socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangesPage {
    /// The very `notification` / `notification_update` messages a connected
    /// client received for these changes, in `seq` order, without a gap.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub changes: Vec<ServerMessage>,
    /// The number of the user's latest change. The next page starts after
    /// the last change returned (or here, when there was none).
    pub seq: u64,
    /// Whether changes after the last one returned exist.
    pub has_more: bool,
}

/// Body of `POST /api/v1/notifications/read-all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadAllResponse {
    pub updated: u64,
}

/// The machine-readable `code` of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    ValidationFailed,
    IdempotencyKeyReused,
    /// 410 (contract §7): the changes after the asked position are no longer
    /// kept, or the position is beyond the latest: reload the inbox.
    ResyncRequired,
    TooManyConnections,
    ServiceUnavailable,
    Internal,
    /// WebSocket only: a client message that is not valid JSON or has an
    /// unknown `type`.
    InvalidMessage,
    /// WebSocket only: `?since=` names no notification of this user.
    UnknownSince,
    /// WebSocket only: more in-band `auth` messages than a connection may
    /// send per minute; the message was not checked.
    RateLimited,
}

/// The `error` member of every error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// The offending request field, for `validation_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `{"error": {...}}`, the body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

impl ErrorResponse {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code,
                message: message.into(),
                field: None,
            },
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
        self
    }
}

/// Hand-written schemas for the type and status, inlined where they are used
/// (as the published document always had them).
#[cfg(feature = "openapi")]
pub(crate) mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::Object;

    fn string_enum(values: &[&str], description: &str) -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(values.iter().copied()))
            .description(Some(description))
            .build()
    }

    pub fn notification_type() -> Object {
        string_enum(
            &["INFO", "SUCCESS", "WARNING", "ERROR"],
            "Kind of notification",
        )
    }

    pub fn notification_type_optional() -> Object {
        string_enum(
            &["INFO", "SUCCESS", "WARNING", "ERROR"],
            "Kind of notification (default INFO)",
        )
    }

    pub fn notification_status() -> Object {
        string_enum(&["UNREAD", "READ", "ARCHIVED"], "Status in the inbox")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_bodies_have_the_contract_shape() {
        let body = ErrorResponse::new(ErrorCode::ValidationFailed, "title: must not be empty")
            .with_field("title");
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"error": {"code": "validation_failed", "message": "title: must not be empty", "field": "title"}})
        );
        let body = ErrorResponse::new(ErrorCode::Unauthorized, "missing token");
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"error": {"code": "unauthorized", "message": "missing token"}})
        );
    }
}
