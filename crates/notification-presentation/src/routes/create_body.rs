//! Reads the body of `POST /api/v1/notifications` into a validated draft.
//!
//! Parsed by hand from a JSON value rather than with a serde struct so that
//! every broken rule names its `field` (422); the content rules themselves are
//! the domain's ([`NotificationDraft::parse`]).

use notification_domain::{NotificationDraft, NotificationType, UserId, ValidationError};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Largest body accepted, in bytes (413 beyond).
pub const CREATE_BODY_LIMIT: usize = 1024 * 1024;

/// Malformed JSON → 400 `bad_request`; anything else wrong → 422 with `field`.
pub fn parse_create_body(body: &[u8]) -> Result<NotificationDraft, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("malformed JSON: {error}")))?;
    let Value::Object(fields) = value else {
        return Err(ValidationError::new("body", "must be a JSON object").into());
    };
    Ok(draft_of(&fields)?)
}

/// The draft of one create's fields (a body, or an item of a batch); the
/// error names the broken rule's field.
pub fn draft_of(fields: &Map<String, Value>) -> Result<NotificationDraft, ValidationError> {
    let user_id = user_id(fields)?;
    let title = required_string(fields, "title")?;
    let message = required_string(fields, "message")?;
    let notification_type = notification_type(fields)?;
    // `null` counts as absent for the optional fields, as in most JSON APIs.
    let metadata = fields.get("metadata").filter(|v| !v.is_null()).cloned();
    NotificationDraft::parse(user_id, title, message, notification_type, metadata)
}

fn user_id(fields: &Map<String, Value>) -> Result<UserId, ValidationError> {
    match fields.get("user_id") {
        None | Some(Value::Null) => Err(ValidationError::new("user_id", "is required")),
        Some(Value::String(text)) => text
            .parse()
            .map_err(|_| ValidationError::new("user_id", "must be a UUID")),
        Some(_) => Err(ValidationError::new("user_id", "must be a UUID string")),
    }
}

fn required_string<'a>(
    fields: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, ValidationError> {
    match fields.get(field) {
        None | Some(Value::Null) => Err(ValidationError::new(field, "is required")),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(ValidationError::new(field, "must be a string")),
    }
}

fn notification_type(
    fields: &Map<String, Value>,
) -> Result<Option<NotificationType>, ValidationError> {
    match fields.get("type") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text.parse().map(Some),
        Some(_) => Err(ValidationError::new(
            "type",
            "must be one of INFO, SUCCESS, WARNING, ERROR",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use proptest::prelude::*;
    use serde_json::json;

    const USER: &str = "123e4567-e89b-12d3-a456-426614174001";

    fn field_of(body: Value) -> String {
        match parse_create_body(body.to_string().as_bytes()) {
            Err(ApiError::Validation(error)) => error.field.to_owned(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_body_gets_the_defaults() {
        let draft = parse_create_body(
            json!({"user_id": USER, "title": "t", "message": "m"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(draft.notification_type, NotificationType::Info);
        assert!(draft.metadata.as_map().is_empty());
        assert_eq!(draft.user_id.to_string(), USER);
    }

    #[test]
    fn null_optional_fields_count_as_absent() {
        let body =
            json!({"user_id": USER, "title": "t", "message": "m", "type": null, "metadata": null});
        assert!(parse_create_body(body.to_string().as_bytes()).is_ok());
    }

    #[test]
    fn each_rule_names_its_field() {
        let base = || json!({"user_id": USER, "title": "t", "message": "m"});
        let with = |key: &str, value: Value| {
            let mut body = base();
            body[key] = value;
            body
        };
        let without = |key: &str| {
            let mut body = base();
            body.as_object_mut().unwrap().remove(key);
            body
        };
        assert_eq!(field_of(without("user_id")), "user_id");
        assert_eq!(field_of(with("user_id", json!("nope"))), "user_id");
        assert_eq!(field_of(with("user_id", json!(7))), "user_id");
        assert_eq!(field_of(without("title")), "title");
        assert_eq!(field_of(with("title", json!(1))), "title");
        assert_eq!(field_of(with("title", json!("  "))), "title");
        assert_eq!(field_of(without("message")), "message");
        assert_eq!(field_of(with("message", json!(["m"]))), "message");
        assert_eq!(field_of(with("type", json!("info"))), "type");
        assert_eq!(field_of(with("type", json!(1))), "type");
        assert_eq!(field_of(with("metadata", json!([1]))), "metadata");
        assert_eq!(field_of(json!([1, 2])), "body");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [&b""[..], b"{", b"{\"user_id\":}", b"\xff\xfe"] {
            assert!(matches!(
                parse_create_body(body),
                Err(ApiError::BadRequest(_))
            ));
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::String),
            Just(Value::String(USER.to_owned())),
            prop_oneof![Just("INFO"), Just("ERROR"), Just("x")]
                .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Objects that use the real field names, so the rules are reached.
    fn arb_body() -> impl Strategy<Value = Value> {
        let field = prop_oneof![
            Just("user_id"),
            Just("title"),
            Just("message"),
            Just("type"),
            Just("metadata"),
            Just("other"),
        ];
        prop::collection::btree_map(field, arb_json(), 0..6)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic_and_never_give_500(body in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Err(error) = parse_create_body(&body) {
                prop_assert!(error.status_code().is_client_error(), "{error:?}");
            }
        }

        #[test]
        fn random_objects_never_panic_and_never_give_500(body in arb_body()) {
            if let Err(error) = parse_create_body(body.to_string().as_bytes()) {
                prop_assert!(error.status_code().is_client_error(), "{error:?}");
                prop_assert!(matches!(error, ApiError::Validation(_)), "{error:?}");
            }
        }
    }
}
