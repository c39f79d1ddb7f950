//! The command line. Every setting is a `--kebab-case` flag with a matching
//! environment variable (contract §1); values are checked in [`crate::settings`].

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "notification-api",
    version,
    about = "Per-user notification inbox with instant WebSocket delivery"
)]
// A flag given twice takes its last value, so wrappers and tests can override defaults.
#[command(args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API and WebSockets (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print an HS256 JWT signed with JWT_SECRET.
    Token(TokenArgs),
    /// Delete notifications older than NOTIFICATION_RETENTION once, then exit.
    Prune,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user the token acts for (a UUID).
    #[arg(long)]
    pub sub: String,
    /// Space-separated scopes, e.g. "notifications:publish".
    #[arg(long)]
    pub scope: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
}

/// Raw configuration values, as given; see `Settings::from_args` for the rules.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Listen address.
    #[arg(
        long,
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind_addr: String,
    /// sqlite://path (default) or postgres://…
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/notifications.db",
        global = true
    )]
    pub database_url: String,
    /// HS256 key, at least 32 bytes. Unset (with no public key) → dev mode.
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM public key file; enables RS256/ES256 instead of HS256.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE", global = true)]
    pub jwt_public_key_file: Option<String>,
    /// URL of a JWK set (RS256/ES256 keys by `kid`); excludes JWT_SECRET and JWT_PUBLIC_KEY_FILE.
    #[arg(long, env = "JWT_JWKS_URL", global = true)]
    pub jwt_jwks_url: Option<String>,
    /// When set, tokens must carry this `iss`.
    #[arg(long, env = "JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// When set, tokens must carry this `aud`.
    #[arg(long, env = "JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// redis://… (or rediss://… with TLS) fans events out across nodes; unset → in-process bus.
    #[arg(long, env = "EVENT_BUS_URL", global = true)]
    pub event_bus_url: Option<String>,
    /// PEM file of a private CA, trusted beside the system's roots for rediss:// and an https JWKS.
    #[arg(long, env = "TLS_CA_FILE", global = true)]
    pub tls_ca_file: Option<String>,
    /// Comma-separated origins allowed to open WebSockets; unset → any.
    #[arg(long, env = "ALLOWED_ORIGINS", global = true)]
    pub allowed_origins: Option<String>,
    /// Seconds between server ping frames.
    #[arg(long, env = "WS_PING_INTERVAL", default_value = "54", global = true)]
    pub ws_ping_interval: String,
    /// Seconds of client silence before the connection is closed.
    #[arg(long, env = "WS_PONG_TIMEOUT", default_value = "60", global = true)]
    pub ws_pong_timeout: String,
    /// Seconds a write may take before the connection is dropped.
    #[arg(long, env = "WS_WRITE_TIMEOUT", default_value = "10", global = true)]
    pub ws_write_timeout: String,
    /// Largest client message in bytes (an `auth` message may be up to 8 KiB).
    #[arg(
        long,
        env = "WS_MAX_MESSAGE_SIZE",
        default_value = "512",
        global = true
    )]
    pub ws_max_message_size: String,
    /// Messages queued per connection before it is closed with 1013.
    #[arg(long, env = "WS_SEND_BUFFER", default_value = "256", global = true)]
    pub ws_send_buffer: String,
    /// Open WebSockets allowed per user.
    #[arg(
        long,
        env = "WS_MAX_CONNECTIONS_PER_USER",
        default_value = "16",
        global = true
    )]
    pub ws_max_connections_per_user: String,
    /// How far back `since_seq` and the changes feed reach: change log rows
    /// older than this are purged (`7d`, `12h`, `30m`, `90s`).
    #[arg(long, env = "SYNC_LOG_RETENTION", default_value = "7d", global = true)]
    pub sync_log_retention: String,
    /// Notifications older than this are deleted (`90d`, `12h`, `30m`, `90s`);
    /// unset → kept for ever.
    #[arg(long, env = "NOTIFICATION_RETENTION", global = true)]
    pub notification_retention: Option<String>,
    /// Seconds to wait for connections to finish on shutdown.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "10", global = true)]
    pub shutdown_timeout: String,
    /// Tracing filter, e.g. `info` or `notification_api=debug`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub rust_log: String,
}
