//! WebSocket messages (contract §5).

#[cfg(feature = "domain")]
use notification_domain::{
    DomainEvent, NotificationChange, NotificationCreated, NotificationUpdated, StatusChange,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::kinds::NotificationStatus;
use crate::resource::NotificationResource;
use crate::rest::{ErrorBody, ErrorCode};

/// Server → client: one JSON object per text frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// A new notification.
    Notification {
        data: NotificationResource,
        unread_count: u64,
        /// The change's number in the user's change sequence (contract §7);
        /// 0 from a server older than v2.
        #[serde(default)]
        seq: u64,
    },
    /// One notification changed, or all were read (`notification_id` null).
    NotificationUpdate {
        notification_id: Option<Uuid>,
        update_type: UpdateType,
        data: UpdateData,
        unread_count: u64,
        /// The change's number in the user's change sequence (contract §7);
        /// 0 from a server older than v2.
        #[serde(default)]
        seq: u64,
    },
    /// Reply to a client `ping`.
    Pong { timestamp: i64 },
    /// Reply to a client `auth`: the connection now lives until `expires_at`.
    AuthOk { expires_at: i64 },
    /// First message of a `?since_seq=` resume whose changes are no longer
    /// kept (or whose `since_seq` is beyond the latest): reload the inbox over
    /// REST and go on from `seq`; live changes follow (contract §7).
    Resync { seq: u64, unread_count: u64 },
    /// Something the client sent could not be used; the connection stays open.
    Error { error: ErrorBody },
}

/// What a `notification_update` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateType {
    Read,
    Unread,
    Archive,
    Delete,
    ReadAll,
}

impl UpdateType {
    /// The wire spelling (`update_type`), e.g. for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Unread => "unread",
            Self::Archive => "archive",
            Self::Delete => "delete",
            Self::ReadAll => "read_all",
        }
    }

    /// What a domain change is reported as.
    #[cfg(feature = "domain")]
    pub fn of(change: &NotificationChange) -> Self {
        match (change.status_change(), change) {
            (Some(status_change), _) => Self::from(status_change),
            (None, NotificationChange::AllRead { .. }) => Self::ReadAll,
            (None, _) => Self::Delete,
        }
    }
}

/// The domain's kinds of status change, mapped to the wire once.
#[cfg(feature = "domain")]
impl From<StatusChange> for UpdateType {
    fn from(change: StatusChange) -> Self {
        match change {
            StatusChange::Read => Self::Read,
            StatusChange::Unread => Self::Unread,
            StatusChange::Archive => Self::Archive,
        }
    }
}

/// The changed fields of a `notification_update`; absent fields did not change
/// (`delete` sends `{}`; `unread` sends only the status, meaning `read_at` and
/// `archived_at` are now null).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<NotificationStatus>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub read_at: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub archived_at: Option<OffsetDateTime>,
    /// `read_all` only: how many notifications were marked read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<u64>,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Answered with `pong`.
    Ping,
    /// Replaces the connection's token (same `sub`), moving its expiry.
    Auth { token: String },
}

impl ServerMessage {
    /// An `error` message with the given code.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error {
            error: ErrorBody {
                code,
                message: message.into(),
                field: None,
            },
        }
    }
}

#[cfg(feature = "domain")]
impl From<&NotificationCreated> for ServerMessage {
    fn from(event: &NotificationCreated) -> Self {
        Self::Notification {
            data: NotificationResource::from(&event.notification),
            unread_count: event.unread_count,
            seq: event.seq,
        }
    }
}

#[cfg(feature = "domain")]
impl From<&NotificationUpdated> for ServerMessage {
    fn from(event: &NotificationUpdated) -> Self {
        let data = match event.change {
            NotificationChange::Read { read_at } => UpdateData {
                status: Some(NotificationStatus::Read),
                read_at: Some(read_at),
                ..UpdateData::default()
            },
            NotificationChange::Unread => UpdateData {
                status: Some(NotificationStatus::Unread),
                ..UpdateData::default()
            },
            NotificationChange::Archived { archived_at } => UpdateData {
                status: Some(NotificationStatus::Archived),
                archived_at: Some(archived_at),
                ..UpdateData::default()
            },
            NotificationChange::Deleted => UpdateData::default(),
            NotificationChange::AllRead { read_at, updated } => UpdateData {
                status: Some(NotificationStatus::Read),
                read_at: Some(read_at),
                updated: Some(updated),
                ..UpdateData::default()
            },
        };
        Self::NotificationUpdate {
            notification_id: event.notification_id.map(|id| id.into_uuid()),
            update_type: UpdateType::of(&event.change),
            data,
            unread_count: event.unread_count,
            seq: event.seq,
        }
    }
}

/// The message every connection receives for a change, and the changes feed
/// lists: one function for the pusher, the replay and REST.
#[cfg(feature = "domain")]
impl From<&DomainEvent> for ServerMessage {
    fn from(event: &DomainEvent) -> Self {
        match event {
            DomainEvent::NotificationCreated(created) => Self::from(created),
            DomainEvent::NotificationUpdated(updated) => Self::from(updated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{NotificationId, UserId};
    use serde_json::json;
    use time::macros::datetime;

    fn updated(change: NotificationChange, id: Option<NotificationId>) -> serde_json::Value {
        let event = NotificationUpdated {
            user_id: UserId::from_uuid(Uuid::nil()),
            notification_id: id,
            change,
            unread_count: 3,
            seq: 11,
            occurred_at: datetime!(2025-12-31 18:05 UTC),
        };
        serde_json::to_value(ServerMessage::from(&event)).unwrap()
    }

    #[test]
    fn read_update_has_the_contract_shape() {
        let id: NotificationId = "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f".parse().unwrap();
        let read_at = datetime!(2025-12-31 18:05 UTC);
        assert_eq!(
            updated(NotificationChange::Read { read_at }, Some(id)),
            json!({
                "type": "notification_update",
                "notification_id": "0192f5c8-7d3e-7c4a-9a8e-1f2b3c4d5e6f",
                "update_type": "read",
                "data": {"status": "READ", "read_at": "2025-12-31T18:05:00Z"},
                "unread_count": 3,
                "seq": 11
            })
        );
    }

    #[test]
    fn delete_sends_empty_data_and_read_all_a_null_id() {
        let id = NotificationId::new();
        let delete = updated(NotificationChange::Deleted, Some(id));
        assert_eq!(delete["data"], json!({}));
        assert_eq!(delete["update_type"], "delete");
        let read_at = datetime!(2025-12-31 18:05 UTC);
        let all = updated(
            NotificationChange::AllRead {
                read_at,
                updated: 7,
            },
            None,
        );
        assert_eq!(all["notification_id"], json!(null));
        assert_eq!(
            all["data"],
            json!({"status": "READ", "read_at": "2025-12-31T18:05:00Z", "updated": 7})
        );
    }

    #[test]
    fn update_type_spelling_is_its_serde_spelling() {
        let at = datetime!(2025-12-31 18:05 UTC);
        for change in [
            NotificationChange::Read { read_at: at },
            NotificationChange::Unread,
            NotificationChange::Archived { archived_at: at },
            NotificationChange::Deleted,
            NotificationChange::AllRead {
                read_at: at,
                updated: 1,
            },
        ] {
            let update_type = UpdateType::of(&change);
            assert_eq!(
                serde_json::to_value(update_type).unwrap(),
                json!(update_type.as_str())
            );
        }
        assert_eq!(UpdateType::from(StatusChange::Archive).as_str(), "archive");
    }

    #[test]
    fn client_messages_parse_from_their_wire_form() {
        let ping: ClientMessage = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(ping, ClientMessage::Ping);
        let auth: ClientMessage = serde_json::from_str(r#"{"type":"auth","token":"t"}"#).unwrap();
        assert_eq!(auth, ClientMessage::Auth { token: "t".into() });
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
    }

    #[test]
    fn pong_and_errors_have_the_contract_shape() {
        let pong = serde_json::to_value(ServerMessage::Pong {
            timestamp: 1_704_048_000,
        })
        .unwrap();
        assert_eq!(pong, json!({"type": "pong", "timestamp": 1_704_048_000}));
        let error = ServerMessage::error(ErrorCode::InvalidMessage, "bad json");
        assert_eq!(
            serde_json::to_value(error).unwrap(),
            json!({"type": "error", "error": {"code": "invalid_message", "message": "bad json"}})
        );
    }

    #[test]
    fn resync_has_the_contract_shape() {
        let resync = ServerMessage::Resync {
            seq: 42,
            unread_count: 3,
        };
        let wire = json!({"type": "resync", "seq": 42, "unread_count": 3});
        assert_eq!(serde_json::to_value(&resync).unwrap(), wire);
        assert_eq!(
            serde_json::from_value::<ServerMessage>(wire).unwrap(),
            resync
        );
    }
}
