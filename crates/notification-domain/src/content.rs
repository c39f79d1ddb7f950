//! The user-supplied parts of a notification, each parsed once into a type that
//! cannot hold an invalid value ("parse, don't validate").

use serde_json::{Map, Value};

use crate::error::ValidationError;
use crate::ids::UserId;
use crate::notification::NotificationType;

/// Longest title, in characters, after trimming.
pub const TITLE_MAX_CHARS: usize = 255;
/// Longest message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 4096;
/// Largest metadata object, in bytes of its compact JSON serialization.
pub const METADATA_MAX_BYTES: usize = 8 * 1024;

/// A title: 1–255 characters once surrounding white space is trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        reject_nul("title", trimmed)?;
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(ValidationError::new("title", "must not be empty"));
        }
        if chars > TITLE_MAX_CHARS {
            return Err(ValidationError::new(
                "title",
                format!("must be at most {TITLE_MAX_CHARS} characters, got {chars}"),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A title as stored earlier, taken as it is: it passed the rules of the
    /// day it was written, and a rule tightened since must not make it
    /// unreadable.
    pub(crate) fn stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: 1–4096 characters, not only white space. Kept as sent
/// (inner and surrounding white space may be formatting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message(String);

impl Message {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            return Err(ValidationError::new("message", "must not be empty"));
        }
        reject_nul("message", raw)?;
        let chars = raw.chars().count();
        if chars > MESSAGE_MAX_CHARS {
            return Err(ValidationError::new(
                "message",
                format!("must be at most {MESSAGE_MAX_CHARS} characters, got {chars}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A message as stored earlier, taken as it is (see [`Title::stored`]).
    pub(crate) fn stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free-form data for the client: a JSON object of at most 8 KiB serialized.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    pub fn parse(value: Value) -> Result<Self, ValidationError> {
        let Value::Object(map) = value else {
            return Err(ValidationError::new("metadata", "must be a JSON object"));
        };
        if map
            .iter()
            .any(|(key, value)| key.contains('\0') || contains_nul(value))
        {
            return Err(ValidationError::new("metadata", NUL_MESSAGE));
        }
        let metadata = Self(map);
        let size = metadata.serialized_len();
        if size > METADATA_MAX_BYTES {
            return Err(ValidationError::new(
                "metadata",
                format!("must be at most {METADATA_MAX_BYTES} bytes serialized, got {size}"),
            ));
        }
        Ok(metadata)
    }

    /// Metadata as stored earlier: it must still be a JSON object (the
    /// structure every reader relies on), but no size or content rule of
    /// today applies (see [`Title::stored`]).
    pub(crate) fn stored(value: Value) -> Result<Self, ValidationError> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(ValidationError::new("metadata", "must be a JSON object")),
        }
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The compact JSON text, as stored.
    pub fn to_json_string(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    fn serialized_len(&self) -> usize {
        // Serializing into a Vec cannot fail for a `Map<String, Value>`.
        serde_json::to_vec(&self.0).map_or(usize::MAX, |bytes| bytes.len())
    }
}

/// NUL is refused everywhere: PostgreSQL cannot store it in text or jsonb, and
/// no client means it; both backends must accept exactly the same input.
const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

fn reject_nul(field: &'static str, text: &str) -> Result<(), ValidationError> {
    if text.contains('\0') {
        return Err(ValidationError::new(field, NUL_MESSAGE));
    }
    Ok(())
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || contains_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Everything needed to create a notification, already validated. The id and
/// the creation time are added by [`Notification::new`](crate::Notification::new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationDraft {
    pub user_id: UserId,
    pub title: Title,
    pub message: Message,
    pub notification_type: NotificationType,
    pub metadata: Metadata,
}

impl NotificationDraft {
    /// Validates raw input. The first broken rule is reported, in field order
    /// (title, message, metadata).
    pub fn parse(
        user_id: UserId,
        title: &str,
        message: &str,
        notification_type: Option<NotificationType>,
        metadata: Option<Value>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            user_id,
            title: Title::parse(title)?,
            message: Message::parse(message)?,
            notification_type: notification_type.unwrap_or_default(),
            metadata: metadata
                .map(Metadata::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_title_is_trimmed() {
        assert_eq!(Title::parse("  Hello \n").unwrap().as_str(), "Hello");
    }

    #[test]
    fn a_blank_title_is_rejected_with_its_field() {
        let err = Title::parse(" \t ").unwrap_err();
        assert_eq!(err.field, "title");
    }

    #[test]
    fn title_length_counts_characters_not_bytes() {
        assert!(Title::parse(&"é".repeat(255)).is_ok());
        assert!(Title::parse(&"é".repeat(256)).is_err());
    }

    #[test]
    fn message_limits_are_one_to_4096_characters() {
        assert!(Message::parse("x").is_ok());
        assert!(Message::parse(&"x".repeat(4096)).is_ok());
        assert_eq!(
            Message::parse(&"x".repeat(4097)).unwrap_err().field,
            "message"
        );
        assert_eq!(Message::parse("   ").unwrap_err().field, "message");
    }

    #[test]
    fn metadata_must_be_an_object() {
        for value in [json!([]), json!("x"), json!(1), json!(null), json!(true)] {
            assert_eq!(Metadata::parse(value).unwrap_err().field, "metadata");
        }
        assert!(Metadata::parse(json!({"order": 42})).is_ok());
    }

    #[test]
    fn metadata_is_limited_to_8_kib_serialized() {
        // {"k":"…"} is 8 bytes plus the string.
        let fits = json!({ "k": "x".repeat(METADATA_MAX_BYTES - 8) });
        assert!(Metadata::parse(fits).is_ok());
        let too_big = json!({ "k": "x".repeat(METADATA_MAX_BYTES - 7) });
        assert_eq!(Metadata::parse(too_big).unwrap_err().field, "metadata");
    }

    #[test]
    fn nul_characters_are_rejected_in_every_field() {
        assert_eq!(Title::parse("a\0b").unwrap_err().field, "title");
        assert_eq!(Message::parse("a\0b").unwrap_err().field, "message");
        let nested = json!({"a": [{"b": "x\u{0}y"}]});
        assert_eq!(Metadata::parse(nested).unwrap_err().field, "metadata");
        assert_eq!(
            Metadata::parse(json!({"k\u{0}": 1})).unwrap_err().field,
            "metadata"
        );
    }

    #[test]
    fn a_draft_defaults_type_and_metadata() {
        let draft =
            NotificationDraft::parse(UserId::from_uuid(uuid::Uuid::nil()), "t", "m", None, None)
                .unwrap();
        assert_eq!(draft.notification_type, NotificationType::Info);
        assert!(draft.metadata.as_map().is_empty());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(".{0,10}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn parsing_any_input_never_panics_and_accepted_values_keep_the_rules(
            title in ".{0,300}",
            message in ".{0,300}",
            metadata in arb_json(),
        ) {
            let user = UserId::from_uuid(uuid::Uuid::nil());
            if let Ok(draft) = NotificationDraft::parse(user, &title, &message, None, Some(metadata)) {
                let title_chars = draft.title.as_str().chars().count();
                prop_assert!((1..=TITLE_MAX_CHARS).contains(&title_chars));
                prop_assert_eq!(draft.title.as_str(), draft.title.as_str().trim());
                prop_assert!(!draft.message.as_str().trim().is_empty());
                prop_assert!(draft.metadata.to_json_string().len() <= METADATA_MAX_BYTES);
            }
        }
    }
}
