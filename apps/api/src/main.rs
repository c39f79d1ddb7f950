//! `notification-api`: serve (default), migrate, prune, or print a token.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use notification_api::cli::{Cli, Command, TokenArgs};
use notification_api::settings::AuthSettings;
use notification_api::startup::{self, PruneError};
use notification_api::{telemetry, Application, Settings, StartupError};
use notification_infrastructure::{storage, tls};
use notification_presentation::auth::TokenIssuer;

/// jemalloc rather than glibc's malloc: requests, frames and batches are
/// allocated on one thread and freed on another (HTTP worker, runtime,
/// writer), which glibc serves slowly from its shared arenas (`_int_malloc`
/// was 7 % of a create's CPU). Measured: 6–20 % less CPU per create, 0.25 KiB
/// more per idle socket (docs/benchmarks/halve-the-cost.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit code for configuration errors (as clap uses for bad flags).
const EXIT_BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    // Before any TLS connection: rustls needs one crypto provider chosen.
    tls::install_crypto_provider();
    let cli = Cli::parse();
    let settings = match Settings::from_args(&cli.config) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Token(args) => print_token(&settings, &args),
        Command::Migrate => run(settings, migrate),
        Command::Serve => run(settings, serve),
        Command::Prune => run(settings, prune),
    }
}

/// Why a command failed: one line, and the exit code that goes with it.
struct Failure {
    message: String,
    exit: ExitCode,
}

impl Failure {
    /// A failure that a retry may fix (a server away): exit 1.
    fn runtime(message: String) -> Self {
        Self {
            message,
            exit: ExitCode::FAILURE,
        }
    }

    /// Exit 2 when the configuration must change (e.g. a certificate that
    /// does not verify), else 1; the message carries the causes too.
    fn startup(error: &StartupError) -> Self {
        Self {
            message: one_line(error),
            exit: if error.is_configuration() {
                ExitCode::from(EXIT_BAD_CONFIG)
            } else {
                ExitCode::FAILURE
            },
        }
    }
}

/// `error` and its causes, `: `-separated on one line.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let text = error.to_string();
        // Some errors repeat their cause in their own text.
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = error.source();
    }
    line.replace('\n', " ")
}

fn run<F, Fut>(settings: Settings, task: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    telemetry::init_tracing(&settings.rust_log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { message, exit }) => {
            tracing::error!("{message}");
            eprintln!("error: {message}");
            exit
        }
    }
}

async fn serve(settings: Settings) -> Result<(), Failure> {
    // Every WebSocket is a descriptor: take all the hard limit allows, since
    // soft limits (often 1,024) are far below what one node can hold.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(open_files = limit, "open-files limit"),
        Err(error) => tracing::warn!(%error, "open-files limit not raised"),
    }
    let application = Application::build(settings)
        .await
        .map_err(|e| Failure::startup(&e))?;
    if let Some(tokens) = application.dev_tokens() {
        tokens.print(&application.base_url());
    }
    application
        .run_until_stopped()
        .await
        .map_err(|e| Failure::runtime(format!("server failed: {e}")))
}

async fn migrate(settings: Settings) -> Result<(), Failure> {
    storage::migrate(&settings.database_url)
        .await
        .map_err(|e| Failure::startup(&StartupError::Storage(e)))?;
    tracing::info!(database = %settings.database_url, "migrations applied");
    Ok(())
}

/// One retention pass and exit; without `NOTIFICATION_RETENTION` there is
/// nothing to prune and that is a configuration error (exit 2).
async fn prune(settings: Settings) -> Result<(), Failure> {
    let Some(retention) = settings.notification_retention else {
        return Err(Failure {
            message: "NOTIFICATION_RETENTION: required by `prune` (e.g. 90d)".into(),
            exit: ExitCode::from(EXIT_BAD_CONFIG),
        });
    };
    match startup::prune_once(&settings, retention).await {
        Ok(deleted) => {
            tracing::info!(deleted, "expired notifications deleted");
            println!("{deleted} expired notifications deleted");
            Ok(())
        }
        Err(PruneError::Startup(error)) => Err(Failure::startup(&error)),
        Err(error) => Err(Failure::runtime(one_line(&error))),
    }
}

fn print_token(settings: &Settings, args: &TokenArgs) -> ExitCode {
    let fail = |variable: &str, message: &str| {
        eprintln!("error: {variable}: {message}");
        ExitCode::from(EXIT_BAD_CONFIG)
    };
    let AuthSettings::Configured(jwt) = &settings.auth else {
        return fail(
            "JWT_SECRET",
            "required by `token` (dev mode secrets live only for one server run)",
        );
    };
    let Ok(sub) = args.sub.parse::<uuid::Uuid>() else {
        return fail("--sub", &format!("expected a UUID, got {:?}", args.sub));
    };
    // Signs with JWT_SECRET and adds the configured `iss`/`aud`, so the token
    // passes this server's own checks.
    let issuer = match TokenIssuer::from_settings(jwt) {
        Ok(issuer) => issuer,
        Err(error) => return fail("JWT_SECRET", &error.to_string()),
    };
    match issuer.issue(sub, args.scope.as_deref(), Duration::from_secs(args.ttl)) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => fail("JWT_SECRET", &error.to_string()),
    }
}
