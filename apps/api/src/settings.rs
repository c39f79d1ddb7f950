//! Typed settings, checked once at start-up.
//!
//! Every rule reports the variable it is about, so a bad deployment stops with
//! one line such as `JWT_SECRET: must be at least 32 bytes (got 12)`.

use std::net::ToSocketAddrs;
use std::time::Duration;

use notification_application::realtime::RealtimeSettings;
use notification_infrastructure::storage::DatabaseUrl;
use notification_infrastructure::tls::PrivateCa;
use notification_presentation::auth::{JwksSettings, JwtKey, JwtSettings};

use crate::cli::ConfigArgs;

/// A configuration value that cannot be used; `Display` is the whole message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// How tokens are checked.
#[derive(Debug, Clone)]
pub enum AuthSettings {
    /// `JWT_SECRET` or `JWT_PUBLIC_KEY_FILE` was given.
    Configured(JwtSettings),
    /// `JWT_JWKS_URL` was given: the keys of that set, by `kid`.
    Jwks {
        jwks: JwksSettings,
        issuer: Option<String>,
        audience: Option<String>,
    },
    /// Neither was given: a random secret is made for this run (see `dev_mode`).
    Dev,
}

/// Where domain events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBusSettings {
    InProcess,
    /// `redis://…` or `rediss://…` (TLS): fan events out across nodes.
    Redis(String),
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind_addr: String,
    pub database_url: DatabaseUrl,
    pub auth: AuthSettings,
    pub event_bus: EventBusSettings,
    /// `TLS_CA_FILE`: a private CA for `rediss://` and an https JWKS.
    pub tls_ca: Option<PrivateCa>,
    /// The `WS_*` settings of contract §1.
    pub realtime: RealtimeSettings,
    /// `ALLOWED_ORIGINS`; `None`: any origin may open a WebSocket or call the API (CORS).
    pub allowed_origins: Option<Vec<String>>,
    pub shutdown_timeout: Duration,
    /// `SYNC_LOG_RETENTION`: how long the change log keeps a change.
    pub sync_log_retention: Duration,
    /// `NOTIFICATION_RETENTION`: how long a notification is kept; `None`: for ever.
    pub notification_retention: Option<Duration>,
    pub rust_log: String,
}

impl Settings {
    /// Checks every raw value; the first bad one is reported.
    pub fn from_args(args: &ConfigArgs) -> Result<Self, ConfigError> {
        let jwt_secret = args.jwt_secret.clone().filter(|s| !s.is_empty());
        let tls_ca = parse_ca_file(args.tls_ca_file.as_deref())?;
        Ok(Self {
            bind_addr: parse_bind_addr(&args.bind_addr)?,
            database_url: DatabaseUrl::parse(&args.database_url)
                .map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))?,
            auth: parse_auth(args, jwt_secret.as_deref(), tls_ca.as_ref())?,
            event_bus: parse_event_bus(args.event_bus_url.as_deref())?,
            tls_ca,
            realtime: RealtimeSettings {
                ping_interval: parse_seconds("WS_PING_INTERVAL", &args.ws_ping_interval)?,
                pong_timeout: parse_seconds("WS_PONG_TIMEOUT", &args.ws_pong_timeout)?,
                write_timeout: parse_seconds("WS_WRITE_TIMEOUT", &args.ws_write_timeout)?,
                max_message_size: parse_count("WS_MAX_MESSAGE_SIZE", &args.ws_max_message_size)?,
                send_buffer: parse_count("WS_SEND_BUFFER", &args.ws_send_buffer)?,
                max_connections_per_user: parse_count(
                    "WS_MAX_CONNECTIONS_PER_USER",
                    &args.ws_max_connections_per_user,
                )?,
                ..RealtimeSettings::default()
            },
            allowed_origins: parse_origins(args.allowed_origins.as_deref()),
            shutdown_timeout: parse_seconds("SHUTDOWN_TIMEOUT", &args.shutdown_timeout)?,
            sync_log_retention: parse_retention("SYNC_LOG_RETENTION", &args.sync_log_retention)?,
            notification_retention: args
                .notification_retention
                .as_deref()
                .filter(|raw| !raw.is_empty())
                .map(|raw| parse_retention("NOTIFICATION_RETENTION", raw))
                .transpose()?,
            rust_log: args.rust_log.clone(),
        })
    }
}

fn parse_bind_addr(raw: &str) -> Result<String, ConfigError> {
    let resolves = raw
        .to_socket_addrs()
        .map(|mut addrs| addrs.next().is_some())
        .unwrap_or(false);
    if resolves {
        Ok(raw.to_owned())
    } else {
        Err(ConfigError::new(
            "BIND_ADDR",
            format!("expected host:port, e.g. 127.0.0.1:8080, got {raw:?}"),
        ))
    }
}

fn parse_auth(
    args: &ConfigArgs,
    secret: Option<&str>,
    tls_ca: Option<&PrivateCa>,
) -> Result<AuthSettings, ConfigError> {
    let issuer = args.jwt_issuer.clone().filter(|s| !s.is_empty());
    let audience = args.jwt_audience.clone().filter(|s| !s.is_empty());
    if let Some(url) = args
        .jwt_jwks_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // One source of keys: a JWKS beside a fixed key would leave it open
        // which of them a token may be signed with.
        if secret.is_some() || args.jwt_public_key_file.is_some() {
            return Err(ConfigError::new(
                "JWT_JWKS_URL",
                "cannot be combined with JWT_SECRET or JWT_PUBLIC_KEY_FILE; set only one of them",
            ));
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError::new(
                "JWT_JWKS_URL",
                format!("expected an https:// or http:// URL, got {url:?}"),
            ));
        }
        let jwks = JwksSettings {
            private_ca_pem: tls_ca.map(|ca| ca.pem().to_vec()),
            ..JwksSettings::new(url)
        };
        return Ok(AuthSettings::Jwks {
            jwks,
            issuer,
            audience,
        });
    }
    let key = match (&args.jwt_public_key_file, secret) {
        (Some(path), _) => {
            let pem = std::fs::read(path).map_err(|e| {
                ConfigError::new("JWT_PUBLIC_KEY_FILE", format!("cannot read {path:?}: {e}"))
            })?;
            JwtKey::from_public_key_pem(&pem)
                .map_err(|e| ConfigError::new("JWT_PUBLIC_KEY_FILE", e.to_string()))?
        }
        (None, Some(secret)) => JwtKey::hs256(secret.as_bytes().to_vec())
            .map_err(|e| ConfigError::new("JWT_SECRET", e.to_string()))?,
        (None, None) => return Ok(AuthSettings::Dev),
    };
    Ok(AuthSettings::Configured(JwtSettings {
        key,
        issuer,
        audience,
    }))
}

fn parse_event_bus(raw: Option<&str>) -> Result<EventBusSettings, ConfigError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(EventBusSettings::InProcess),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            Ok(EventBusSettings::Redis(url.to_owned()))
        }
        Some(url) => Err(ConfigError::new(
            "EVENT_BUS_URL",
            format!("expected redis://host:port or rediss://host:port, got {url:?}"),
        )),
    }
}

fn parse_ca_file(raw: Option<&str>) -> Result<Option<PrivateCa>, ConfigError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(path) => PrivateCa::read(path)
            .map(Some)
            .map_err(|e| ConfigError::new("TLS_CA_FILE", e.to_string())),
    }
}

fn parse_origins(raw: Option<&str>) -> Option<Vec<String>> {
    let origins: Vec<String> = raw?
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    (!origins.is_empty()).then_some(origins)
}

/// Seconds as a whole or decimal number (`54`, `0.5`), greater than zero.
fn parse_seconds(variable: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let bad = || {
        ConfigError::new(
            variable,
            format!("expected a number of seconds greater than 0, e.g. 54 or 0.5, got {raw:?}"),
        )
    };
    let seconds: f64 = raw.trim().parse().map_err(|_| bad())?;
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

/// A whole number greater than zero followed by its unit: `s`, `m`, `h` or
/// `d` (`7d`, `12h`, `30m`, `90s`), as contract §1 writes retentions.
fn parse_retention(variable: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let bad = || {
        ConfigError::new(
            variable,
            format!("expected a duration such as 7d, 12h, 30m or 90s, got {raw:?}"),
        )
    };
    let raw = raw.trim();
    let unit_at = raw.len().checked_sub(1).ok_or_else(bad)?;
    let (amount, unit) = raw.split_at(unit_at);
    let seconds_per_unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let amount: u64 = amount.parse().map_err(|_| bad())?;
    match amount.checked_mul(seconds_per_unit) {
        // Beyond what a time stamp can subtract: refuse rather than wrap.
        Some(seconds) if seconds > 0 && seconds <= 100 * 365 * 86_400 => {
            Ok(Duration::from_secs(seconds))
        }
        _ => Err(bad()),
    }
}

/// A whole number greater than zero.
fn parse_count(variable: &'static str, raw: &str) -> Result<usize, ConfigError> {
    match raw.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::new(
            variable,
            format!("expected a whole number greater than 0, got {raw:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn args(flags: &[&str]) -> ConfigArgs {
        let mut argv = vec!["notification-api"];
        argv.extend_from_slice(flags);
        Cli::try_parse_from(argv).unwrap().config
    }

    #[test]
    fn defaults_are_the_contracts() {
        let settings = Settings::from_args(&args(&[])).unwrap();
        assert_eq!(settings.bind_addr, "127.0.0.1:8080");
        assert!(matches!(settings.auth, AuthSettings::Dev));
        assert_eq!(settings.realtime.ping_interval, Duration::from_secs(54));
        assert_eq!(settings.realtime.pong_timeout, Duration::from_secs(60));
        assert_eq!(settings.realtime.write_timeout, Duration::from_secs(10));
        assert_eq!(settings.realtime.max_message_size, 512);
        assert_eq!(settings.realtime.send_buffer, 256);
        assert_eq!(settings.realtime.max_connections_per_user, 16);
        assert_eq!(settings.allowed_origins, None);
        assert_eq!(settings.shutdown_timeout, Duration::from_secs(10));
        assert_eq!(settings.sync_log_retention, Duration::from_secs(7 * 86_400));
        assert_eq!(settings.notification_retention, None, "kept for ever");
    }

    #[test]
    fn the_notification_retention_is_a_duration_and_names_itself_when_bad() {
        let settings = Settings::from_args(&args(&["--notification-retention=90d"])).unwrap();
        assert_eq!(
            settings.notification_retention,
            Some(Duration::from_secs(90 * 86_400))
        );
        for bad in ["7", "0d", "1.5d", "7w"] {
            let flag = format!("--notification-retention={bad}");
            let err = Settings::from_args(&args(&[&flag])).unwrap_err();
            assert_eq!(err.variable, "NOTIFICATION_RETENTION", "{bad:?}");
        }
    }

    #[test]
    fn the_sync_log_retention_takes_a_unit_and_names_itself_when_bad() {
        for (raw, seconds) in [
            ("12h", 12 * 3600),
            ("30m", 1800),
            ("90s", 90),
            (" 2d ", 172_800),
        ] {
            let flag = format!("--sync-log-retention={raw}");
            let settings = Settings::from_args(&args(&[&flag])).unwrap();
            assert_eq!(settings.sync_log_retention, Duration::from_secs(seconds));
        }
        for bad in [
            "",
            "7",
            "d",
            "0d",
            "-1d",
            "1.5d",
            "7w",
            "99999999999999999d",
        ] {
            let flag = format!("--sync-log-retention={bad}");
            let err = Settings::from_args(&args(&[&flag])).unwrap_err();
            assert_eq!(err.variable, "SYNC_LOG_RETENTION", "{bad:?}");
        }
    }

    #[test]
    fn a_short_secret_names_the_variable() {
        let err = Settings::from_args(&args(&["--jwt-secret", "short"])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn an_unparsable_database_url_names_the_variable() {
        let err = Settings::from_args(&args(&["--database-url", "mysql://x"])).unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
    }

    #[test]
    fn durations_accept_decimals_and_reject_zero_and_text() {
        let settings = Settings::from_args(&args(&["--ws-ping-interval", "0.25"])).unwrap();
        assert_eq!(settings.realtime.ping_interval, Duration::from_millis(250));
        for bad in ["0", "-1", "abc", "NaN"] {
            let flag = format!("--ws-pong-timeout={bad}");
            let err = Settings::from_args(&args(&[&flag])).unwrap_err();
            assert_eq!(err.variable, "WS_PONG_TIMEOUT");
        }
    }

    #[test]
    fn counts_must_be_positive_whole_numbers() {
        let err = Settings::from_args(&args(&["--ws-send-buffer", "0"])).unwrap_err();
        assert_eq!(err.variable, "WS_SEND_BUFFER");
    }

    #[test]
    fn origins_are_split_and_trimmed() {
        let settings = Settings::from_args(&args(&[
            "--allowed-origins",
            "https://a.example, https://b.example/ ,",
        ]))
        .unwrap();
        assert_eq!(
            settings.allowed_origins,
            Some(vec![
                "https://a.example".to_owned(),
                "https://b.example".to_owned()
            ])
        );
    }

    #[test]
    fn the_event_bus_is_in_process_unless_a_redis_url_is_given() {
        let settings = Settings::from_args(&args(&[])).unwrap();
        assert_eq!(settings.event_bus, EventBusSettings::InProcess);
        let settings =
            Settings::from_args(&args(&["--event-bus-url", "redis://127.0.0.1:6379"])).unwrap();
        assert_eq!(
            settings.event_bus,
            EventBusSettings::Redis("redis://127.0.0.1:6379".to_owned())
        );
        let settings =
            Settings::from_args(&args(&["--event-bus-url", "rediss://redis.internal:6380"]))
                .unwrap();
        assert_eq!(
            settings.event_bus,
            EventBusSettings::Redis("rediss://redis.internal:6380".to_owned())
        );
        let err = Settings::from_args(&args(&["--event-bus-url", "nats://x"])).unwrap_err();
        assert_eq!(err.variable, "EVENT_BUS_URL");
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_names_the_variable() {
        let err = Settings::from_args(&args(&["--tls-ca-file", "/no/such/ca.pem"])).unwrap_err();
        assert_eq!(err.variable, "TLS_CA_FILE");
        let not_pem = std::env::temp_dir().join(format!("not-a-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&not_pem, "hello").unwrap();
        let flag = format!("--tls-ca-file={}", not_pem.display());
        let err = Settings::from_args(&args(&[&flag])).unwrap_err();
        assert_eq!(err.variable, "TLS_CA_FILE");
        let _ = std::fs::remove_file(not_pem);
    }

    #[test]
    fn a_bad_bind_address_names_the_variable() {
        let err = Settings::from_args(&args(&["--bind-addr", "nowhere"])).unwrap_err();
        assert_eq!(err.variable, "BIND_ADDR");
    }

    #[test]
    fn a_jwks_url_with_a_secret_or_a_public_key_file_names_the_variable() {
        let jwks = ["--jwt-jwks-url", "https://id.example/.well-known/jwks.json"];
        for other in [
            ["--jwt-secret", "a-secret-of-at-least-thirty-two-bytes!!"],
            ["--jwt-public-key-file", "/etc/key.pem"],
        ] {
            let flags = [jwks.as_slice(), other.as_slice()].concat();
            let err = Settings::from_args(&args(&flags)).unwrap_err();
            assert_eq!(err.variable, "JWT_JWKS_URL", "{other:?}");
        }
        let settings = Settings::from_args(&args(&jwks)).unwrap();
        assert!(matches!(settings.auth, AuthSettings::Jwks { .. }));
        let err = Settings::from_args(&args(&["--jwt-jwks-url", "ftp://x/keys"])).unwrap_err();
        assert_eq!(err.variable, "JWT_JWKS_URL");
    }

    #[test]
    fn a_missing_public_key_file_names_the_variable() {
        let err =
            Settings::from_args(&args(&["--jwt-public-key-file", "/no/such.pem"])).unwrap_err();
        assert_eq!(err.variable, "JWT_PUBLIC_KEY_FILE");
    }
}
