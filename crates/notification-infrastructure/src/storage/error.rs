//! Errors of opening a database, and the mappings of driver errors (sqlx's,
//! and rusqlite's of the SQLite writer) onto the repository port's
//! [`RepositoryError`].

use std::io;

use notification_domain::RepositoryError;
use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;
use thiserror::Error;

/// The database could not be opened or prepared at start-up.
///
/// Messages name the database by its redacted URL, never with a password.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("cannot create the folder of the SQLite database {url}")]
    CreateFolder {
        url: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the database {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// TLS was refused because the server's certificate does not verify
    /// (`sslmode=verify-ca|verify-full`): retrying cannot help.
    #[error("the certificate of the database {url} does not verify: {reason}")]
    Certificate { url: String, reason: String },
    #[error("cannot open the SQLite database {url} for writing")]
    OpenWriter {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot apply the migrations to the database {url}")]
    Migrate {
        url: String,
        #[source]
        source: MigrateError,
    },
}

impl StorageError {
    /// The error of a failed connection attempt to the database at `url`
    /// (redacted): a refused certificate is told apart from an outage.
    pub(crate) fn connect(url: &str, source: sqlx::Error) -> Self {
        // sqlx reports a refused certificate as `Io` (a rustls error inside).
        if crate::tls::is_certificate_error(&source) {
            return Self::Certificate {
                url: url.to_owned(),
                reason: source.to_string(),
            };
        }
        Self::Connect {
            url: url.to_owned(),
            source,
        }
    }

    /// Whether the deployment must change before this can work (a
    /// certificate that does not verify), rather than a server being away.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::Certificate { .. })
    }
}

/// Sorts a sqlx error into what callers of the port can act on: `Unavailable`
/// (answer 503, try again later), `Corrupt` (a stored row cannot be read back)
/// or `Other`.
pub(crate) fn repository_error(error: sqlx::Error) -> RepositoryError {
    if is_unavailable(&error) {
        return RepositoryError::Unavailable(Box::new(error));
    }
    match error {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            RepositoryError::Corrupt(error.to_string())
        }
        other => RepositoryError::Other(Box::new(other)),
    }
}

/// Whether `error` means the database cannot be reached right now.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        // Connection refused or reset, the pool's acquire_timeout, a pool closed
        // at shutdown: the database may well answer again later.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                is_transient_postgres_state(pg.code())
            } else if let Some(sqlite) = db.try_downcast_ref::<SqliteError>() {
                let code = sqlite.code().and_then(|c| c.parse::<i32>().ok());
                code.is_some_and(is_busy_sqlite_code)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// SQLSTATEs that mean "this server cannot serve you right now": connection
/// exceptions (class 08), too many connections / out of resources (class 53),
/// shutdown or start-up in progress (57P01–57P03), and a row lock not granted
/// within `lock_timeout` (55P03: another transaction holds it too long).
fn is_transient_postgres_state(sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || sqlstate.starts_with("53")
        || matches!(sqlstate, "57P01" | "57P02" | "57P03" | "55P03")
}

/// Sorts an error of the SQLite writer connection the way
/// [`repository_error`] sorts sqlx's.
pub(crate) fn sqlite_error(error: rusqlite::Error) -> RepositoryError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if is_busy_sqlite_code(failure.extended_code) =>
        {
            RepositoryError::Unavailable(Box::new(error))
        }
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            RepositoryError::Corrupt(error.to_string())
        }
        _ => RepositoryError::Other(Box::new(error)),
    }
}

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), possibly as an extended code: another
/// process held the database past `busy_timeout`.
fn is_busy_sqlite_code(code: i32) -> bool {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_pool_failures_are_unavailable() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        for error in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(matches!(
                repository_error(error),
                RepositoryError::Unavailable(_)
            ));
        }
    }

    #[test]
    fn a_value_that_cannot_be_decoded_is_corrupt_data() {
        let error = sqlx::Error::ColumnDecode {
            index: "id".into(),
            source: "16 bytes expected".into(),
        };
        assert!(matches!(
            repository_error(error),
            RepositoryError::Corrupt(_)
        ));
    }

    #[test]
    fn anything_else_is_other() {
        assert!(matches!(
            repository_error(sqlx::Error::RowNotFound),
            RepositoryError::Other(_)
        ));
    }

    #[test]
    fn postgres_states_that_mean_try_later() {
        for state in ["08006", "08001", "53300", "57P01", "57P03", "55P03"] {
            assert!(is_transient_postgres_state(state), "{state}");
        }
        for state in ["23505", "42P01", "22P02"] {
            assert!(!is_transient_postgres_state(state), "{state}");
        }
    }

    #[test]
    fn sqlite_busy_and_locked_codes_including_extended_ones() {
        // 5 BUSY, 6 LOCKED, 517 BUSY_SNAPSHOT, 262 LOCKED_SHAREDCACHE.
        for code in [5, 6, 517, 262] {
            assert!(is_busy_sqlite_code(code), "{code}");
        }
        // 19 CONSTRAINT, 2067 CONSTRAINT_UNIQUE.
        for code in [19, 2067] {
            assert!(!is_busy_sqlite_code(code), "{code}");
        }
    }

    #[test]
    fn writer_connection_errors_are_sorted_like_sqlx_ones() {
        let failure = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        assert!(matches!(
            sqlite_error(failure(517)),
            RepositoryError::Unavailable(_)
        ));
        assert!(matches!(
            sqlite_error(failure(2067)),
            RepositoryError::Other(_)
        ));
        let wrong_shape =
            rusqlite::Error::InvalidColumnType(0, "id".to_owned(), rusqlite::types::Type::Text);
        assert!(matches!(
            sqlite_error(wrong_shape),
            RepositoryError::Corrupt(_)
        ));
    }
}
