//! Builds the running service from [`Settings`]: storage, event bus, use cases
//! and the HTTP server, in the order a notification flows through them.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;
use notification_application::NotificationService;
use notification_infrastructure::events::InProcessEventBus;
use notification_infrastructure::storage::{self, StorageError};
use notification_presentation::auth::{JwtKey, JwtSettings, TokenVerifier};
use notification_presentation::{app, ApiState};

use crate::dev_mode::{self, DevTokens};
use crate::settings::{AuthSettings, Settings};
use crate::telemetry;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("JWT: {0}")]
    Auth(String),
}

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    host: String,
    server: Server,
    dev_tokens: Option<DevTokens>,
}

impl Application {
    /// Connects storage (applying migrations), wires the layers and binds the
    /// listener. With `BIND_ADDR` port 0 the OS picks a free port: read it
    /// back with [`Application::port`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let repository = storage::connect(&settings.database_url).await?;
        let event_bus = Arc::new(InProcessEventBus::new());
        let service = NotificationService::new(repository, event_bus.clone());

        let (jwt, dev_tokens) = jwt_settings(&settings.auth)?;
        let tokens =
            Arc::new(TokenVerifier::new(jwt).map_err(|e| StartupError::Auth(e.to_string()))?);
        let state = ApiState {
            service,
            tokens,
            metrics: telemetry::metrics_handle(),
        };

        let bind_error = |source| StartupError::Bind {
            addr: settings.bind_addr.clone(),
            source,
        };
        let listener = TcpListener::bind(&settings.bind_addr).map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let server = HttpServer::new(move || app(state.clone()))
            .shutdown_timeout(settings.shutdown_timeout.as_secs().max(1))
            .listen(listener)
            .map_err(bind_error)?
            .run();
        tracing::info!(addr = %local, database = %settings.database_url, "listening");
        Ok(Self {
            port: local.port(),
            host: local.ip().to_string(),
            server,
            dev_tokens,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`, for printing and for tests.
    pub fn base_url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Stops the server from another task (`stop(true)` drains gracefully).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The tokens of dev mode, when it is on.
    pub fn dev_tokens(&self) -> Option<&DevTokens> {
        self.dev_tokens.as_ref()
    }

    /// Serves until the server is stopped (signal or [`ServerHandle::stop`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The verifier's settings; in dev mode, a random secret and ready tokens.
fn jwt_settings(auth: &AuthSettings) -> Result<(JwtSettings, Option<DevTokens>), StartupError> {
    match auth {
        AuthSettings::Configured(jwt) => Ok((jwt.clone(), None)),
        AuthSettings::Dev => {
            tracing::warn!(
                "DEV MODE: JWT_SECRET is not set; using a random secret for this run only. Never do this in production."
            );
            let key = JwtKey::hs256(dev_mode::random_secret().into_bytes())
                .map_err(|e| StartupError::Auth(e.to_string()))?;
            let tokens = DevTokens::issue(&key).map_err(StartupError::Auth)?;
            let settings = JwtSettings {
                key,
                issuer: None,
                audience: None,
            };
            Ok((settings, Some(tokens)))
        }
    }
}
