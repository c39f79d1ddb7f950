//! Reads the body of `POST /api/v1/notifications/batch` into validated
//! drafts, all or none: the first broken rule, in item order, is the 422,
//! its `field` naming the item (`notifications[3].title`). Each item's rules
//! are the single create's ([`draft_of`]).

use notification_domain::{NotificationDraft, ValidationError};
use notification_protocol::MAX_BATCH_ITEMS;
use serde_json::Value;

use super::create_body::draft_of;
use crate::error::ApiError;

/// Largest batch body accepted, in bytes (413 beyond): room for
/// [`MAX_BATCH_ITEMS`] items of about 8 KiB each, where the single create
/// takes 1 MiB for one.
pub const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The field of the list, in errors about the list itself.
const LIST_FIELD: &str = "notifications";

/// Malformed JSON → 400 `bad_request`; anything else wrong → 422 with `field`.
pub fn parse_batch_body(body: &[u8]) -> Result<Vec<NotificationDraft>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("malformed JSON: {error}")))?;
    let Value::Object(mut fields) = value else {
        return Err(ValidationError::new("body", "must be a JSON object").into());
    };
    let items = match fields.remove(LIST_FIELD) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => {
            return Err(ValidationError::new(LIST_FIELD, "is required").into())
        }
        Some(_) => return Err(ValidationError::new(LIST_FIELD, "must be an array").into()),
    };
    if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
        return Err(ValidationError::new(
            LIST_FIELD,
            format!(
                "must hold 1–{MAX_BATCH_ITEMS} notifications (it holds {})",
                items.len()
            ),
        )
        .into());
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let Value::Object(fields) = item else {
                return Err(ApiError::InvalidBatchItem {
                    field: format!("{LIST_FIELD}[{index}]"),
                    message: "must be a JSON object".to_owned(),
                });
            };
            draft_of(fields).map_err(|error| ApiError::InvalidBatchItem {
                field: format!("{LIST_FIELD}[{index}].{}", error.field),
                message: error.message,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use serde_json::json;

    const USER: &str = "123e4567-e89b-12d3-a456-426614174001";

    fn item(title: &str) -> Value {
        json!({"user_id": USER, "title": title, "message": "m"})
    }

    fn field_of(body: Value) -> String {
        match parse_batch_body(body.to_string().as_bytes()) {
            Err(error) => {
                assert_eq!(error.status_code().as_u16(), 422, "{error:?}");
                error.to_body().error.field.unwrap_or_default()
            }
            Ok(drafts) => panic!("expected a validation error, got {} drafts", drafts.len()),
        }
    }

    #[test]
    fn items_come_out_in_order() {
        let body = json!({"notifications": [item("a"), item("b"), item("c")]});
        let drafts = parse_batch_body(body.to_string().as_bytes()).unwrap();
        let titles: Vec<&str> = drafts.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(titles, ["a", "b", "c"]);
    }

    #[test]
    fn the_first_broken_item_is_named_with_its_index_and_field() {
        let body =
            json!({"notifications": [item("a"), item("b"), item("c"), item(" "), {"title": 1}]});
        assert_eq!(field_of(body), "notifications[3].title");
        let body =
            json!({"notifications": [item("a"), {"user_id": "x", "title": "t", "message": "m"}]});
        assert_eq!(field_of(body), "notifications[1].user_id");
        let body = json!({"notifications": [item("a"), 7]});
        assert_eq!(field_of(body), "notifications[1]");
    }

    #[test]
    fn an_empty_oversized_missing_or_wrong_list_names_the_list() {
        assert_eq!(field_of(json!({"notifications": []})), "notifications");
        let too_many: Vec<Value> = (0..=MAX_BATCH_ITEMS).map(|_| item("t")).collect();
        assert_eq!(
            field_of(json!({"notifications": too_many})),
            "notifications"
        );
        assert_eq!(field_of(json!({})), "notifications");
        assert_eq!(
            field_of(json!({"notifications": {"a": 1}})),
            "notifications"
        );
        assert_eq!(field_of(json!([item("a")])), "body");
    }

    #[test]
    fn the_largest_batch_is_accepted() {
        let items: Vec<Value> = (0..MAX_BATCH_ITEMS).map(|_| item("t")).collect();
        let drafts = parse_batch_body(json!({"notifications": items}).to_string().as_bytes());
        assert_eq!(drafts.map(|d| d.len()).ok(), Some(MAX_BATCH_ITEMS));
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_batch_body(b"{\"notifications\": ["),
            Err(ApiError::BadRequest(_))
        ));
    }
}
