//! The notification resource (contract §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::kinds::{NotificationStatus, NotificationType};

/// A notification as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationResource {
    #[cfg_attr(
        feature = "openapi",
        schema(example = "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f")
    )]
    pub notification_id: Uuid,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "123e4567-e89b-12d3-a456-426614174001")
    )]
    pub user_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "Nova transação"))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(example = "Uma nova transação foi criada"))]
    pub message: String,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::rest::openapi::notification_type))]
    pub notification_type: NotificationType,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::rest::openapi::notification_status))]
    pub status: NotificationStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: Map<String, Value>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub archived_at: Option<OffsetDateTime>,
}

#[cfg(feature = "domain")]
impl From<&notification_domain::Notification> for NotificationResource {
    fn from(n: &notification_domain::Notification) -> Self {
        Self {
            notification_id: n.id().into_uuid(),
            user_id: n.user_id().into_uuid(),
            title: n.title().to_owned(),
            message: n.message().to_owned(),
            notification_type: n.notification_type().into(),
            status: n.status().into(),
            metadata: n.metadata().as_map().clone(),
            created_at: n.created_at(),
            read_at: n.read_at(),
            archived_at: n.archived_at(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{Notification, NotificationDraft, NotificationId, UserId};
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn serializes_exactly_the_contract_fields() {
        let id: NotificationId = "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f".parse().unwrap();
        let user: UserId = "123e4567-e89b-12d3-a456-426614174001".parse().unwrap();
        let draft = NotificationDraft::parse(
            user,
            "Nova transação",
            "Uma nova transação foi criada",
            None,
            None,
        )
        .unwrap();
        let n = Notification::new(draft, id, datetime!(2025-12-31 18:00 UTC));
        let value = serde_json::to_value(NotificationResource::from(&n)).unwrap();
        assert_eq!(
            value,
            json!({
                "notification_id": "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f",
                "user_id": "123e4567-e89b-12d3-a456-426614174001",
                "title": "Nova transação",
                "message": "Uma nova transação foi criada",
                "type": "INFO",
                "status": "UNREAD",
                "metadata": {},
                "created_at": "2025-12-31T18:00:00Z",
                "read_at": null,
                "archived_at": null
            })
        );
    }
}
