//! [`RequestFingerprint`]: what a create request asked for, in 32 bytes.
//!
//! The SHA-256 of the canonical JSON of the validated [`NotificationDraft`]:
//! `{"message":…,"metadata":…,"title":…,"type":…,"user_id":…}` with every
//! object's keys sorted and no white space. So two requests that differ only
//! in what validation normalizes (spacing around the title, key order in
//! `metadata`, an absent `type` versus `"INFO"`) are the same request, and any
//! real difference (another user, another word, another metadata value) is not.

use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::content::NotificationDraft;

/// Length of a fingerprint, in bytes.
pub const FINGERPRINT_LEN: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestFingerprint([u8; FINGERPRINT_LEN]);

impl RequestFingerprint {
    /// The fingerprint of a create request.
    pub fn of(draft: &NotificationDraft) -> Self {
        Self::of_value(&draft_value(draft))
    }

    /// The fingerprint of a batch create request: the SHA-256 of the JSON
    /// array of its drafts' canonical objects, in order. An array never reads
    /// as an object, so a batch and a single create never share a fingerprint
    /// (a key used for one is refused for the other).
    pub fn of_batch(drafts: &[NotificationDraft]) -> Self {
        Self::of_value(&Value::Array(drafts.iter().map(draft_value).collect()))
    }

    fn of_value(value: &Value) -> Self {
        let mut canonical = String::new();
        write_canonical(value, &mut canonical);
        Self(Sha256::digest(canonical.as_bytes()).into())
    }

    /// A fingerprint read back from storage; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; FINGERPRINT_LEN] {
        &self.0
    }
}

impl fmt::Debug for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestFingerprint(")?;
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…)")
    }
}

/// The canonical object of one draft (see the module doc).
fn draft_value(draft: &NotificationDraft) -> Value {
    let mut fields = Map::new();
    fields.insert("user_id".into(), Value::String(draft.user_id.to_string()));
    fields.insert("title".into(), Value::String(draft.title.as_str().into()));
    fields.insert(
        "message".into(),
        Value::String(draft.message.as_str().into()),
    );
    fields.insert(
        "type".into(),
        Value::String(draft.notification_type.as_str().into()),
    );
    fields.insert(
        "metadata".into(),
        Value::Object(draft.metadata.as_map().clone()),
    );
    Value::Object(fields)
}

/// Compact JSON with every object's keys in sorted order, whatever order the
/// map keeps them in (serde_json's `preserve_order` feature, switched on by any
/// crate in the build, would otherwise change the text and the fingerprint).
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars have one compact form each.
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::notification::NotificationType;
    use serde_json::json;

    const USER: &str = "123e4567-e89b-12d3-a456-426614174001";

    fn draft(
        title: &str,
        kind: Option<NotificationType>,
        metadata: Option<Value>,
    ) -> NotificationDraft {
        let user: UserId = USER.parse().unwrap();
        NotificationDraft::parse(user, title, "m", kind, metadata).unwrap()
    }

    fn canonical(value: &Value) -> String {
        let mut out = String::new();
        write_canonical(value, &mut out);
        out
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_has_no_white_space() {
        let value = json!({"b": 1, "a": {"z": [true, null, {"y": "x", "c": 1.5}], "a": "é\"q"}});
        assert_eq!(
            canonical(&value),
            r#"{"a":{"a":"é\"q","z":[true,null,{"c":1.5,"y":"x"}]},"b":1}"#
        );
    }

    #[test]
    fn the_fingerprint_is_the_sha256_of_the_canonical_draft() {
        let expected_text = format!(
            r#"{{"message":"m","metadata":{{"order":42}},"title":"t","type":"INFO","user_id":"{USER}"}}"#
        );
        let expected: [u8; 32] = Sha256::digest(expected_text.as_bytes()).into();
        let fingerprint = RequestFingerprint::of(&draft("t", None, Some(json!({"order": 42}))));
        assert_eq!(fingerprint.as_bytes(), &expected);
    }

    #[test]
    fn what_validation_normalizes_does_not_change_the_fingerprint() {
        let plain = RequestFingerprint::of(&draft("t", None, Some(json!({"a": 1, "b": 2}))));
        let spaced = RequestFingerprint::of(&draft(
            "  t ",
            Some(NotificationType::Info),
            Some(json!({"b": 2, "a": 1})),
        ));
        assert_eq!(plain, spaced);
        assert_eq!(
            RequestFingerprint::of(&draft("t", None, None)),
            RequestFingerprint::of(&draft("t", None, Some(json!({}))))
        );
    }

    #[test]
    fn any_real_difference_changes_the_fingerprint() {
        let base = RequestFingerprint::of(&draft("t", None, Some(json!({"a": 1}))));
        for other in [
            draft("T", None, Some(json!({"a": 1}))),
            draft("t", Some(NotificationType::Error), Some(json!({"a": 1}))),
            draft("t", None, Some(json!({"a": 2}))),
            draft("t", None, Some(json!({"a": "1"}))),
            draft("t", None, Some(json!({"a": 1, "b": null}))),
        ] {
            assert_ne!(RequestFingerprint::of(&other), base, "{other:?}");
        }
        let mut for_another_user = draft("t", None, Some(json!({"a": 1})));
        for_another_user.user_id = UserId::from_uuid(uuid::Uuid::nil());
        assert_ne!(RequestFingerprint::of(&for_another_user), base);
    }

    #[test]
    fn a_batch_fingerprint_depends_on_every_item_and_their_order_and_is_never_a_single_one() {
        let (a, b) = (draft("a", None, None), draft("b", None, None));
        let ab = RequestFingerprint::of_batch(&[a.clone(), b.clone()]);
        assert_eq!(ab, RequestFingerprint::of_batch(&[a.clone(), b.clone()]));
        assert_ne!(ab, RequestFingerprint::of_batch(&[b.clone(), a.clone()]));
        assert_ne!(ab, RequestFingerprint::of_batch(std::slice::from_ref(&a)));
        assert_ne!(
            RequestFingerprint::of_batch(std::slice::from_ref(&a)),
            RequestFingerprint::of(&a),
            "a batch of one is not the single create"
        );
    }

    #[test]
    fn a_fingerprint_round_trips_through_its_bytes_and_refuses_other_lengths() {
        let fingerprint = RequestFingerprint::of(&draft("t", None, None));
        assert_eq!(
            RequestFingerprint::from_slice(fingerprint.as_bytes()),
            Some(fingerprint)
        );
        assert_eq!(RequestFingerprint::from_slice(&[0; 31]), None);
        assert_eq!(RequestFingerprint::from_slice(&[0; 33]), None);
    }
}
