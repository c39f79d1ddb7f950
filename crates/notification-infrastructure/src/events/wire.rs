//! The versioned encoding of a [`DomainEvent`] on a bus shared by several nodes.
//!
//! A message is a JSON envelope:
//!
//! ```json
//! {"v": 2, "event": {"type": "notification_created", "notification": {…},
//!                    "unread_count": 3, "seq": 17,
//!                    "occurred_at": "2026-01-01T10:00:00.123456Z"}}
//! ```
//!
//! It carries everything a node needs to push the event to its sockets without
//! reading the database: the whole notification, the user's unread count after
//! the change, the change's place in the user's change sequence (`seq`), when
//! it happened and what changed.
//!
//! # Versions
//!
//! - **1**: the event without `seq` (releases before the change sequence).
//! - **2**: the same event with `seq` (required). A new version rather than
//!   an added field because its meaning reaches further than a field: a node
//!   orders each user's changes by it and heals a gap from the change log,
//!   so it must never take a message without it for one with `seq` 0.
//!
//! A version 1 message decodes to an event with `seq` 0, which no change has
//! (sequences start at 1): the pusher does not push it (docs/deployment.md,
//! "Rolling deploys", says what a mixed cluster does). Times are RFC 3339 with their
//! microseconds; ids are hyphenated UUIDs; the notification's `type` and
//! `status` use the contract's spelling (`"INFO"`, `"UNREAD"`).
//!
//! # Compatibility rules (rolling deploys)
//!
//! During a deploy, nodes of the old and the new release share the bus, so every
//! node must understand what every other node sends:
//!
//! - **Adding a field** keeps `v`. Older nodes ignore fields they do not know
//!   (so no type here may use `deny_unknown_fields`), and a new field must be
//!   optional for the newer node (`#[serde(default)]`), because older nodes do
//!   not send it.
//! - **Anything an older node cannot understand** — a new event `type`, a new
//!   change `kind`, a removed, renamed or retyped field, a changed meaning — is a
//!   new version `v`, introduced in two releases: the first *decodes* both
//!   versions and still *sends* the old one; once no node older than it runs,
//!   the second sends the new one. Decoding of a version is removed only when no
//!   running node can send it.
//! - A node that receives a version (or an event type, or a change kind) it does
//!   not know gets a [`DecodeError`] naming it; the bus logs it and skips the
//!   message. It never stops on one.
//!
//! The channel name carries no version: nodes of every release must meet on
//! the same channel, or a deploy would split users between two buses.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

use notification_domain::{
    DomainEvent, Notification, NotificationChange, NotificationCreated, NotificationId,
    NotificationUpdated, StoredNotification, UserId, ValidationError,
};

/// The version this node writes.
pub const CURRENT_VERSION: u64 = 2;
/// Every version this node reads.
pub const SUPPORTED_VERSIONS: &[u64] = &[1, 2];

/// Why a message from the bus could not be turned back into a [`DomainEvent`].
#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("not an event envelope: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error(
        "unknown envelope version {version} (this node reads {SUPPORTED_VERSIONS:?}; \
         was it sent by a newer release?)"
    )]
    UnknownVersion { version: u64 },
    #[error("unknown event type {0:?} (sent by a newer release?)")]
    UnknownEventType(String),
    #[error("a version 2 event without its seq")]
    MissingSeq,
    #[error(
        "unknown change kind {0:?} in a notification_updated event (sent by a newer release?)"
    )]
    UnknownChangeKind(String),
    #[error("the event's notification breaks a rule: {0}")]
    InvalidNotification(#[source] ValidationError),
}

/// Encodes `event` in the [`CURRENT_VERSION`] envelope.
pub fn encode(event: &DomainEvent) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&v1::Envelope {
        v: CURRENT_VERSION,
        event: v1::Event::from_domain(event),
    })
}

/// Encodes `event` as a release without the change sequence wrote it
/// (version 1, no `seq`): for tests of a mixed cluster.
#[doc(hidden)]
pub fn encode_v1(event: &DomainEvent) -> Result<Vec<u8>, serde_json::Error> {
    let mut event = v1::Event::from_domain(event);
    event.forget_seq();
    serde_json::to_vec(&v1::Envelope { v: 1, event })
}

/// Decodes a message of any [supported version](SUPPORTED_VERSIONS).
pub fn decode(bytes: &[u8]) -> Result<DomainEvent, DecodeError> {
    // Read the version alone first: the rest of the message is shaped by it.
    let VersionOnly { v } = serde_json::from_slice(bytes).map_err(DecodeError::Malformed)?;
    match v {
        // Version 2 is version 1 with `seq`: one set of types reads both, the
        // version deciding whether `seq` must be there.
        1 => v1::decode(bytes, false),
        2 => v1::decode(bytes, true),
        version => Err(DecodeError::UnknownVersion { version }),
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    v: u64,
}

/// Version 1 of the envelope, and version 2 (the same with `seq`).
mod v1 {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub(super) struct Envelope {
        pub v: u64,
        pub event: Event,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub(super) enum Event {
        NotificationCreated {
            notification: NotificationBody,
            unread_count: u64,
            /// Version 2 only.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            seq: Option<u64>,
            #[serde(with = "time::serde::rfc3339")]
            occurred_at: OffsetDateTime,
        },
        NotificationUpdated {
            user_id: Uuid,
            notification_id: Option<Uuid>,
            change: Change,
            unread_count: u64,
            /// Version 2 only.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            seq: Option<u64>,
            #[serde(with = "time::serde::rfc3339")]
            occurred_at: OffsetDateTime,
        },
        /// A type added by a newer release; never written.
        #[serde(other, skip_serializing)]
        Unknown,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct NotificationBody {
        id: Uuid,
        user_id: Uuid,
        title: String,
        message: String,
        #[serde(rename = "type")]
        notification_type: String,
        status: String,
        metadata: serde_json::Value,
        #[serde(with = "time::serde::rfc3339")]
        created_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339::option")]
        read_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        archived_at: Option<OffsetDateTime>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub(super) enum Change {
        Read {
            #[serde(with = "time::serde::rfc3339")]
            read_at: OffsetDateTime,
        },
        Unread,
        Archived {
            #[serde(with = "time::serde::rfc3339")]
            archived_at: OffsetDateTime,
        },
        Deleted,
        AllRead {
            #[serde(with = "time::serde::rfc3339")]
            read_at: OffsetDateTime,
            updated: u64,
        },
        /// A kind added by a newer release; never written.
        #[serde(other, skip_serializing)]
        Unknown,
    }

    impl Event {
        pub(super) fn from_domain(event: &DomainEvent) -> Self {
            match event {
                DomainEvent::NotificationCreated(e) => Self::NotificationCreated {
                    notification: NotificationBody::from_domain(&e.notification),
                    unread_count: e.unread_count,
                    seq: Some(e.seq),
                    occurred_at: e.occurred_at,
                },
                DomainEvent::NotificationUpdated(e) => Self::NotificationUpdated {
                    user_id: e.user_id.into_uuid(),
                    notification_id: e.notification_id.map(NotificationId::into_uuid),
                    change: Change::from_domain(e.change),
                    unread_count: e.unread_count,
                    seq: Some(e.seq),
                    occurred_at: e.occurred_at,
                },
            }
        }

        /// As a version 1 event, which has no `seq`.
        pub(super) fn forget_seq(&mut self) {
            match self {
                Self::NotificationCreated { seq, .. } | Self::NotificationUpdated { seq, .. } => {
                    *seq = None;
                }
                Self::Unknown => {}
            }
        }
    }

    impl NotificationBody {
        fn from_domain(n: &Notification) -> Self {
            Self {
                id: n.id().into_uuid(),
                user_id: n.user_id().into_uuid(),
                title: n.title().to_owned(),
                message: n.message().to_owned(),
                notification_type: n.notification_type().as_str().to_owned(),
                status: n.status().as_str().to_owned(),
                metadata: serde_json::Value::Object(n.metadata().as_map().clone()),
                created_at: n.created_at(),
                read_at: n.read_at(),
                archived_at: n.archived_at(),
            }
        }

        /// Checks every rule again: a message is input from another process.
        fn into_domain(self) -> Result<Notification, DecodeError> {
            Notification::parse(StoredNotification {
                id: NotificationId::from_uuid(self.id),
                user_id: UserId::from_uuid(self.user_id),
                title: self.title,
                message: self.message,
                notification_type: self.notification_type,
                status: self.status,
                metadata: self.metadata,
                created_at: self.created_at,
                read_at: self.read_at,
                archived_at: self.archived_at,
            })
            .map_err(DecodeError::InvalidNotification)
        }
    }

    impl Change {
        fn from_domain(change: NotificationChange) -> Self {
            match change {
                NotificationChange::Read { read_at } => Self::Read { read_at },
                NotificationChange::Unread => Self::Unread,
                NotificationChange::Archived { archived_at } => Self::Archived { archived_at },
                NotificationChange::Deleted => Self::Deleted,
                NotificationChange::AllRead { read_at, updated } => {
                    Self::AllRead { read_at, updated }
                }
            }
        }

        /// `None` for a kind this release does not know.
        fn into_domain(self) -> Option<NotificationChange> {
            Some(match self {
                Self::Read { read_at } => NotificationChange::Read { read_at },
                Self::Unread => NotificationChange::Unread,
                Self::Archived { archived_at } => NotificationChange::Archived { archived_at },
                Self::Deleted => NotificationChange::Deleted,
                Self::AllRead { read_at, updated } => {
                    NotificationChange::AllRead { read_at, updated }
                }
                Self::Unknown => return None,
            })
        }
    }

    /// `with_seq`: version 2, where `seq` is required; in version 1 it is
    /// ignored (an event of version 1 has `seq` 0).
    pub(super) fn decode(bytes: &[u8], with_seq: bool) -> Result<DomainEvent, DecodeError> {
        let Envelope { event, .. } =
            serde_json::from_slice(bytes).map_err(DecodeError::Malformed)?;
        let seq_of = |seq: Option<u64>| match (with_seq, seq) {
            (false, _) => Ok(0),
            (true, Some(seq)) => Ok(seq),
            (true, None) => Err(DecodeError::MissingSeq),
        };
        Ok(match event {
            Event::NotificationCreated {
                notification,
                unread_count,
                seq,
                occurred_at,
            } => NotificationCreated {
                notification: notification.into_domain()?,
                unread_count,
                seq: seq_of(seq)?,
                occurred_at,
            }
            .into(),
            Event::NotificationUpdated {
                user_id,
                notification_id,
                change,
                unread_count,
                seq,
                occurred_at,
            } => NotificationUpdated {
                user_id: UserId::from_uuid(user_id),
                notification_id: notification_id.map(NotificationId::from_uuid),
                change: change
                    .into_domain()
                    .ok_or_else(|| DecodeError::UnknownChangeKind(change_kind(bytes)))?,
                unread_count,
                seq: seq_of(seq)?,
                occurred_at,
            }
            .into(),
            Event::Unknown => return Err(DecodeError::UnknownEventType(event_type(bytes))),
        })
    }

    // The two helpers below read a message a second time, only to name what
    // this node did not know in the error; they never run on the normal path.

    fn event_type(bytes: &[u8]) -> String {
        #[derive(Deserialize)]
        struct Outer {
            event: Tag,
        }
        #[derive(Deserialize)]
        struct Tag {
            #[serde(rename = "type")]
            tag: String,
        }
        serde_json::from_slice::<Outer>(bytes).map_or_else(|_| "?".to_owned(), |o| o.event.tag)
    }

    fn change_kind(bytes: &[u8]) -> String {
        #[derive(Deserialize)]
        struct Outer {
            event: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            change: Kind,
        }
        #[derive(Deserialize)]
        struct Kind {
            kind: String,
        }
        serde_json::from_slice::<Outer>(bytes)
            .map_or_else(|_| "?".to_owned(), |o| o.event.change.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{NotificationDraft, NotificationType};
    use serde_json::json;
    use time::macros::datetime;

    fn user() -> UserId {
        "123e4567-e89b-12d3-a456-426614174001".parse().unwrap()
    }

    fn notification() -> Notification {
        let draft = NotificationDraft::parse(
            user(),
            "Nova transação",
            "Uma nova transação foi criada",
            Some(NotificationType::Warning),
            Some(json!({"order": 42, "tags": ["a", "b"], "nested": {"x": null}})),
        )
        .unwrap();
        Notification::new(
            draft,
            "01890a5d-ac96-774b-bcce-b302099a8057".parse().unwrap(),
            datetime!(2026-01-01 10:00:00.123456 UTC),
        )
    }

    fn updated(notification_id: Option<NotificationId>, change: NotificationChange) -> DomainEvent {
        NotificationUpdated {
            user_id: user(),
            notification_id,
            change,
            unread_count: 7,
            seq: 12,
            occurred_at: datetime!(2026-01-01 10:05:00.000001 UTC),
        }
        .into()
    }

    fn every_event() -> Vec<DomainEvent> {
        let unread = notification();
        let mut read = unread.clone();
        read.mark_read(datetime!(2026-01-01 10:01 UTC));
        let mut archived = read.clone();
        archived.archive(datetime!(2026-01-01 10:02 UTC));
        let id = Some(unread.id());
        let mut events: Vec<DomainEvent> = [unread, read, archived]
            .into_iter()
            .map(|notification| {
                NotificationCreated {
                    notification,
                    unread_count: u64::MAX,
                    seq: u64::MAX,
                    occurred_at: datetime!(2026-01-01 10:00:00.123456 UTC),
                }
                .into()
            })
            .collect();
        events.extend([
            updated(
                id,
                NotificationChange::Read {
                    read_at: datetime!(2026-01-01 10:03:00.5 UTC),
                },
            ),
            updated(id, NotificationChange::Unread),
            updated(
                id,
                NotificationChange::Archived {
                    archived_at: datetime!(2026-01-01 10:04 UTC),
                },
            ),
            updated(id, NotificationChange::Deleted),
            updated(
                None,
                NotificationChange::AllRead {
                    read_at: datetime!(2026-01-01 10:05 UTC),
                    updated: 12,
                },
            ),
        ]);
        events
    }

    /// A version 1 message as an older release writes it, kept by hand: if
    /// this stops decoding, nodes of different releases stop understanding
    /// each other.
    fn frozen_v1_created() -> serde_json::Value {
        json!({
            "v": 1,
            "event": {
                "type": "notification_created",
                "notification": {
                    "id": "01890a5d-ac96-774b-bcce-b302099a8057",
                    "user_id": "123e4567-e89b-12d3-a456-426614174001",
                    "title": "Nova transação",
                    "message": "Uma nova transação foi criada",
                    "type": "WARNING",
                    "status": "UNREAD",
                    "metadata": {"order": 42, "tags": ["a", "b"], "nested": {"x": null}},
                    "created_at": "2026-01-01T10:00:00.123456Z",
                    "read_at": null,
                    "archived_at": null
                },
                "unread_count": 3,
                "occurred_at": "2026-01-01T10:00:00.123456Z"
            }
        })
    }

    fn decode_json(value: &serde_json::Value) -> Result<DomainEvent, DecodeError> {
        decode(&serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn every_event_variant_round_trips() {
        for event in every_event() {
            let bytes = encode(&event).unwrap();
            assert_eq!(
                decode(&bytes).unwrap(),
                event,
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn the_current_version_is_written_and_read() {
        let bytes = encode(&every_event()[0]).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["v"], json!(CURRENT_VERSION));
        assert!(SUPPORTED_VERSIONS.contains(&CURRENT_VERSION));
    }

    #[test]
    fn a_frozen_v1_message_decodes_to_the_event_it_describes() {
        let expected: DomainEvent = NotificationCreated {
            notification: notification(),
            unread_count: 3,
            // Version 1 has no seq: 0, which no change has.
            seq: 0,
            occurred_at: datetime!(2026-01-01 10:00:00.123456 UTC),
        }
        .into();
        assert_eq!(decode_json(&frozen_v1_created()).unwrap(), expected);
    }

    #[test]
    fn a_v1_message_with_fields_from_a_newer_release_still_decodes() {
        let mut message = frozen_v1_created();
        message["trace_id"] = json!("abc");
        message["event"]["priority"] = json!("high");
        message["event"]["notification"]["icon"] = json!({"url": "x"});
        let expected = decode_json(&frozen_v1_created()).unwrap();

        assert_eq!(decode_json(&message).unwrap(), expected);
    }

    #[test]
    fn an_unknown_version_is_rejected_and_named() {
        let mut message = frozen_v1_created();
        message["v"] = json!(3);
        let err = decode_json(&message).unwrap_err();
        assert!(matches!(err, DecodeError::UnknownVersion { version: 3 }));
        assert!(err.to_string().contains("version 3"), "{err}");
    }

    /// A version 2 message as this release writes it, kept by hand.
    fn frozen_v2_created() -> serde_json::Value {
        let mut message = frozen_v1_created();
        message["v"] = json!(2);
        message["event"]["seq"] = json!(17);
        message
    }

    #[test]
    fn a_frozen_v2_message_decodes_to_the_event_it_describes() {
        let expected: DomainEvent = NotificationCreated {
            notification: notification(),
            unread_count: 3,
            seq: 17,
            occurred_at: datetime!(2026-01-01 10:00:00.123456 UTC),
        }
        .into();
        assert_eq!(decode_json(&frozen_v2_created()).unwrap(), expected);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&encode(&expected).unwrap()).unwrap(),
            frozen_v2_created(),
            "this release writes exactly that"
        );
    }

    #[test]
    fn a_v2_message_without_its_seq_is_rejected() {
        let mut message = frozen_v2_created();
        message["event"].as_object_mut().unwrap().remove("seq");
        assert!(matches!(
            decode_json(&message),
            Err(DecodeError::MissingSeq)
        ));
    }

    #[test]
    fn a_v1_message_of_any_event_decodes_with_seq_0() {
        for event in every_event() {
            let decoded = decode(&encode_v1(&event).unwrap()).unwrap();
            assert_eq!(decoded.seq(), 0, "{decoded:?}");
            assert_eq!(decoded.user_id(), event.user_id());
        }
    }

    #[test]
    fn an_unknown_event_type_is_rejected_and_named() {
        let mut message = frozen_v1_created();
        message["event"]["type"] = json!("notification_snoozed");
        let err = decode_json(&message).unwrap_err();
        assert!(
            matches!(&err, DecodeError::UnknownEventType(t) if t == "notification_snoozed"),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_change_kind_is_rejected_and_named() {
        let event = updated(None, NotificationChange::Deleted);
        let mut message: serde_json::Value =
            serde_json::from_slice(&encode(&event).unwrap()).unwrap();
        message["event"]["change"] = json!({"kind": "snoozed", "until": "tomorrow"});
        let err = decode_json(&message).unwrap_err();
        assert!(
            matches!(&err, DecodeError::UnknownChangeKind(k) if k == "snoozed"),
            "{err:?}"
        );
    }

    #[test]
    fn garbage_is_rejected() {
        let garbage: [&[u8]; 7] = [
            b"",
            b"not json",
            b"\xff\xfe\x00",
            b"[]",
            b"{\"event\": {}}",
            b"{\"v\": \"1\", \"event\": {}}",
            b"{\"v\": 1, \"event\": {\"type\": \"notification_created\"}}",
        ];
        for bytes in garbage {
            assert!(
                matches!(decode(bytes), Err(DecodeError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_notification_that_breaks_a_rule_is_rejected() {
        let mut message = frozen_v1_created();
        message["event"]["notification"]["title"] = json!("   ");
        assert!(matches!(
            decode_json(&message),
            Err(DecodeError::InvalidNotification(e)) if e.field == "title"
        ));
    }
}
