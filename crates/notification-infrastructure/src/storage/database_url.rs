//! `DATABASE_URL`, parsed once at start-up into the database it selects.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use thiserror::Error;
use url::Url;

/// Written in place of a password whenever a URL is shown.
const REDACTED: &str = "REDACTED";

/// Which database to use and where it is.
///
/// Accepted forms:
/// - `sqlite://data/notifications.db` (relative to the working directory),
///   `sqlite:///var/lib/notifications.db` (absolute), `sqlite::memory:`;
/// - `postgres://user:password@host:5432/database` (or `postgresql://`).
///
/// `Display` and `Debug` never show a password, so the value can be logged.
#[derive(Clone)]
pub struct DatabaseUrl {
    target: Target,
    /// The URL as it may be shown: password replaced.
    redacted: String,
}

#[derive(Clone)]
pub(crate) enum Target {
    Sqlite(SqliteLocation),
    // Boxed: the options are large and a URL is moved around at start-up.
    Postgres(Box<PgConnectOptions>),
}

/// Where a SQLite database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SqliteLocation {
    /// A private database that disappears with the process.
    Memory,
    File(PathBuf),
}

/// Why a `DATABASE_URL` was refused; a single line that never shows a password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct InvalidDatabaseUrl(String);

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, InvalidDatabaseUrl> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid(
                "is empty; expected sqlite://<path> or postgres://…",
            ));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            return parse_sqlite(rest);
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return parse_postgres(raw);
        }
        match raw.split_once(':') {
            Some((scheme, _)) if is_scheme(scheme) => Err(invalid(format!(
                "unsupported database `{scheme}`; expected sqlite://<path> or postgres://…"
            ))),
            // Not even a scheme: do not echo it, it may hold a password.
            _ => Err(invalid(
                "is not a database URL; expected sqlite://<path> or postgres://…",
            )),
        }
    }

    /// Whether this URL selects PostgreSQL (otherwise SQLite).
    pub fn is_postgres(&self) -> bool {
        matches!(self.target, Target::Postgres(_))
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }
}

impl FromStr for DatabaseUrl {
    type Err = InvalidDatabaseUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

// Hand-written: the derived form would print PgConnectOptions, password included.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted).finish()
    }
}

fn parse_sqlite(rest: &str) -> Result<DatabaseUrl, InvalidDatabaseUrl> {
    if rest == ":memory:" {
        return Ok(DatabaseUrl {
            target: Target::Sqlite(SqliteLocation::Memory),
            redacted: "sqlite::memory:".to_owned(),
        });
    }
    // `sqlite://data/x.db` is relative and `sqlite:///srv/x.db` absolute: the
    // path is whatever follows `//`. The short `sqlite:data/x.db` is accepted too.
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.is_empty() {
        return Err(invalid(
            "SQLite URL has no file path; expected e.g. sqlite://data/notifications.db",
        ));
    }
    if path.contains('?') {
        return Err(invalid(
            "SQLite URL must not have query parameters; the service sets its own options",
        ));
    }
    if path.ends_with('/') {
        return Err(invalid(format!(
            "SQLite path `{path}` names a folder, not a file"
        )));
    }
    Ok(DatabaseUrl {
        target: Target::Sqlite(SqliteLocation::File(PathBuf::from(path))),
        redacted: format!("sqlite://{}", Path::new(path).display()),
    })
}

fn parse_postgres(raw: &str) -> Result<DatabaseUrl, InvalidDatabaseUrl> {
    // Neither error below includes the input, so no password can leak through it.
    let url =
        Url::parse(raw).map_err(|e| invalid(format!("is not a valid PostgreSQL URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("PostgreSQL URL has no host"));
    }
    let options = PgConnectOptions::from_str(raw)
        .map_err(|_| invalid("is not a valid PostgreSQL URL (check the port and parameters)"))?;
    Ok(DatabaseUrl {
        target: Target::Postgres(Box::new(options)),
        redacted: redact(url),
    })
}

/// The URL with its password (in the user-info or in a `password` query
/// parameter) replaced.
fn redact(mut url: Url) -> String {
    if url.password().is_some() {
        // Only fails for URLs that cannot have a password, which this one has.
        let _ = url.set_password(Some(REDACTED));
    }
    if url.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    REDACTED.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

fn invalid(message: impl Into<String>) -> InvalidDatabaseUrl {
    InvalidDatabaseUrl(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_location(raw: &str) -> SqliteLocation {
        match DatabaseUrl::parse(raw).unwrap().target {
            Target::Sqlite(location) => location,
            Target::Postgres(_) => panic!("{raw} parsed as PostgreSQL"),
        }
    }

    #[test]
    fn a_sqlite_url_keeps_a_relative_path_relative() {
        assert_eq!(
            sqlite_location("sqlite://data/notifications.db"),
            SqliteLocation::File(PathBuf::from("data/notifications.db"))
        );
    }

    #[test]
    fn a_sqlite_url_with_three_slashes_is_absolute() {
        assert_eq!(
            sqlite_location("sqlite:///var/lib/n.db"),
            SqliteLocation::File(PathBuf::from("/var/lib/n.db"))
        );
    }

    #[test]
    fn sqlite_memory_is_an_in_memory_database() {
        assert_eq!(sqlite_location("sqlite::memory:"), SqliteLocation::Memory);
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().to_string(),
            "sqlite::memory:"
        );
    }

    #[test]
    fn both_postgres_schemes_select_postgres() {
        for raw in [
            "postgres://u@localhost/db",
            "postgresql://u@localhost:5433/db",
        ] {
            assert!(DatabaseUrl::parse(raw).unwrap().is_postgres(), "{raw}");
        }
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        let url =
            DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/notifications").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://app:REDACTED@db.internal:5432/notifications"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn a_password_query_parameter_is_redacted_too() {
        let url =
            DatabaseUrl::parse("postgres://app@db/n?password=s3cret&sslmode=disable").unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("sslmode=disable"), "{shown}");
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason_and_no_password() {
        let cases = [
            ("", "is empty"),
            (
                "mysql://root:pw@localhost/db",
                "unsupported database `mysql`",
            ),
            ("sqlite://", "no file path"),
            ("sqlite://data/", "names a folder"),
            ("sqlite://x.db?mode=ro", "query parameters"),
            ("postgres://app:pw@:5432/db", "PostgreSQL URL"),
            ("postgres://app:pw@host:notaport/db", "PostgreSQL URL"),
            ("just some text with a secret", "is not a database URL"),
        ];
        for (raw, expected) in cases {
            let error = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(error.contains(expected), "{raw:?} gave {error:?}");
            assert!(
                !error.contains("pw") && !error.contains("secret"),
                "{error}"
            );
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn from_str_is_parse() {
        let url: DatabaseUrl = "sqlite://a.db".parse().unwrap();
        assert_eq!(url.to_string(), "sqlite://a.db");
    }
}
