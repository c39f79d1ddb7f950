//! The values the SQLite writer connection binds and reads, in exactly the
//! form sqlx uses on the reading side (so a row reads back the same whichever
//! driver wrote it): ids as 16-byte BLOBs, times as RFC 3339 TEXT, JSON as
//! its compact text.

use notification_domain::RepositoryError;
use rusqlite::types::Type;
use rusqlite::Row;
use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// The BLOB sqlx writes for a `Uuid`.
pub(crate) fn id_value(id: Uuid) -> [u8; 16] {
    id.into_bytes()
}

/// The 32 hex digits that SQL's `unhex` turns into [`id_value`]'s bytes
/// (for ids inside a JSON array).
pub(crate) fn hex(id: Uuid) -> String {
    id.simple().to_string()
}

/// The TEXT sqlx writes for an `OffsetDateTime`.
pub(crate) fn time_value(at: OffsetDateTime) -> Result<String, RepositoryError> {
    at.format(&Rfc3339)
        .map_err(|e| RepositoryError::Other(Box::new(e)))
}

/// Compact JSON text: a JSON column (as sqlx's `Json` writes it) or a whole
/// batch bound as one parameter.
pub(crate) fn json_text(value: &impl Serialize) -> Result<String, RepositoryError> {
    serde_json::to_string(value).map_err(|e| RepositoryError::Other(Box::new(e)))
}

/// Column `index` as a `Uuid` (a 16-byte BLOB).
pub(crate) fn id_column(row: &Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    let bytes: Vec<u8> = row.get(index)?;
    Uuid::from_slice(&bytes).map_err(|e| conversion_failed(index, Type::Blob, e))
}

/// Column `index` as a time (RFC 3339 TEXT).
pub(crate) fn time_column(row: &Row<'_>, index: usize) -> rusqlite::Result<OffsetDateTime> {
    let text: String = row.get(index)?;
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| conversion_failed(index, Type::Text, e))
}

/// Column `index` as a time, or `None` for NULL.
pub(crate) fn optional_time_column(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<OffsetDateTime>> {
    let text: Option<String> = row.get(index)?;
    text.map(|text| {
        OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| conversion_failed(index, Type::Text, e))
    })
    .transpose()
}

/// Column `index` as JSON (TEXT).
pub(crate) fn json_column(row: &Row<'_>, index: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| conversion_failed(index, Type::Text, e))
}

/// A stored value that is not what its column should hold (reported as
/// `Corrupt`, see `error::sqlite_error`).
fn conversion_failed(
    index: usize,
    stored: Type,
    error: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, stored, Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use time::macros::datetime;

    /// Reads the one row of `select` with `read`.
    fn read<T>(
        select: &str,
        read: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        Connection::open_in_memory()
            .unwrap()
            .query_row(select, [], read)
    }

    #[test]
    fn values_read_back_as_written() {
        let id = Uuid::now_v7();
        let at = datetime!(2026-12-03 13:45:01.123_456 UTC);
        let connection = Connection::open_in_memory().unwrap();
        let (read_id, read_at, no_time, json) = connection
            .query_row(
                "SELECT ?1, ?2, NULL, ?3",
                rusqlite::params![id_value(id), time_value(at).unwrap(), r#"{"a":[1,2]}"#],
                |row| {
                    Ok((
                        id_column(row, 0)?,
                        time_column(row, 1)?,
                        optional_time_column(row, 2)?,
                        json_column(row, 3)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!((read_id, read_at, no_time), (id, at, None));
        assert_eq!(json, serde_json::json!({"a": [1, 2]}));
        assert_eq!(hex(id).len(), 32);
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_a_conversion_failure() {
        let short_id = read("SELECT x'0102'", |row| id_column(row, 0));
        assert!(matches!(
            short_id,
            Err(rusqlite::Error::FromSqlConversionFailure(0, Type::Blob, _))
        ));
        let not_a_time = read("SELECT 'yesterday'", |row| time_column(row, 0));
        assert!(matches!(
            not_a_time,
            Err(rusqlite::Error::FromSqlConversionFailure(0, Type::Text, _))
        ));
    }
}
