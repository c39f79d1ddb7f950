//! Builds the running service from [`Settings`]: storage, event bus, use cases
//! and the HTTP server, in the order a notification flows through them.
//!
//! Every task that runs beside the requests (the event bus's subscription,
//! metrics upkeep, storage's own tasks) is spawned on one [`BackgroundTasks`]
//! made here; [`ShutdownHandle::shutdown`] cancels and awaits them all once
//! the HTTP server has stopped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;
use notification_application::NotificationService;
use notification_domain::{EventPublisher, EventSubscriber, NotificationRepository};
use notification_infrastructure::background::BackgroundTasks;
use notification_infrastructure::events::{
    InProcessEventBus, RedisBusConfig, RedisBusError, RedisEventBus,
};
use notification_infrastructure::realtime::{Healer, Hub, HubGate, Pusher};
use notification_infrastructure::storage::{self, Storage, StorageError};
use notification_infrastructure::tls::{self, PrivateCa};
use notification_presentation::auth::{JwksKeys, JwksSettings, JwtKey, JwtSettings, TokenVerifier};
use notification_presentation::websocket::{AllowedOrigins, WebSocketOptions};
use notification_presentation::{app, ApiState};

use crate::dev_mode::{self, DevTokens};
use crate::settings::{AuthSettings, EventBusSettings, Settings};
use crate::telemetry;

/// How often expired idempotency keys (older than 24 h) and change log rows
/// (older than `SYNC_LOG_RETENTION`) are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

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
    #[error("EVENT_BUS_URL: {0}")]
    EventBus(#[from] RedisBusError),
}

impl StartupError {
    /// Whether the deployment's configuration must change before the service
    /// can start (a certificate that does not verify, a bad JWT setting), as
    /// opposed to a dependency being away. The binary exits with 2 for these.
    pub fn is_configuration(&self) -> bool {
        match self {
            Self::Storage(error) => error.is_configuration(),
            Self::EventBus(error) => matches!(
                error,
                RedisBusError::Certificate { .. }
                    | RedisBusError::InvalidUrl(_)
                    | RedisBusError::InvalidConfig(_)
            ),
            Self::Auth(_) => true,
            Self::Bind { .. } => false,
        }
    }
}

/// Wrappers around the storage and event-bus ports, for tests that make
/// them slow or lossy on purpose (a delayed commit, a lost publish) while the
/// rest of the server runs as in production. [`Default`] wraps nothing.
#[derive(Default)]
pub struct Interceptors {
    /// Wraps the repository every use case and every replay reads through.
    pub repository: Option<RepositoryWrapper>,
    /// Wraps the publisher the use cases publish through.
    pub publisher: Option<PublisherWrapper>,
}

/// See [`Interceptors::repository`].
pub type RepositoryWrapper =
    Box<dyn FnOnce(Arc<dyn NotificationRepository>) -> Arc<dyn NotificationRepository> + Send>;
/// See [`Interceptors::publisher`].
pub type PublisherWrapper =
    Box<dyn FnOnce(Arc<dyn EventPublisher>) -> Arc<dyn EventPublisher> + Send>;

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    /// Where a client on this machine reaches the server.
    address: SocketAddr,
    server: Server,
    shutdown: ShutdownHandle,
    dev_tokens: Option<DevTokens>,
    service: NotificationService,
}

/// Stops the application gracefully: every socket gets close 1001, then the
/// HTTP server stops accepting and lets in-flight requests finish.
#[derive(Clone)]
pub struct ShutdownHandle {
    hub: Hub,
    server: ServerHandle,
    /// Half of `SHUTDOWN_TIMEOUT` for the sockets to say goodbye; the HTTP
    /// server's own drain gets the other half.
    socket_drain: Duration,
    /// The Redis bus, when configured: its subscription stops first, so that
    /// no event arrives for sockets that are gone.
    redis: Option<Arc<RedisEventBus>>,
    /// Background tasks (the idempotency purge, metrics upkeep), stopped after the server.
    tasks: BackgroundTasks,
    /// Closed last, once nothing writes any more.
    storage: Storage,
}

impl ShutdownHandle {
    /// Sockets first (close 1001), then the HTTP server, then the event bus
    /// and every background task, awaited until each has ended.
    pub async fn shutdown(&self) {
        tracing::info!(sockets = self.hub.total_connections(), "shutting down");
        self.hub.shutdown();
        if tokio::time::timeout(self.socket_drain, self.hub.drained())
            .await
            .is_err()
        {
            tracing::warn!(
                sockets = self.hub.total_connections(),
                "sockets still open after the drain time; stopping anyway"
            );
        }
        self.server.stop(true).await;
        if let Some(redis) = &self.redis {
            redis.shutdown().await;
        }
        self.tasks.shutdown().await;
        self.storage.close().await;
    }
}

impl Application {
    /// Connects storage (applying migrations), wires the layers and binds the
    /// listener. With `BIND_ADDR` port 0 the OS picks a free port: read it
    /// back with [`Application::port`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with(settings, Interceptors::default()).await
    }

    /// [`build`](Self::build), with the storage and bus ports wrapped as
    /// `interceptors` say (tests).
    pub async fn build_with(
        settings: Settings,
        interceptors: Interceptors,
    ) -> Result<Self, StartupError> {
        // The path of a notification, from the inside out: storage, the event
        // bus, the service that ties them together, then the hub that pushes
        // (it reads missed changes through the service).
        tls::install_crypto_provider();
        let tasks = BackgroundTasks::new();
        let storage = storage::connect(&settings.database_url, &tasks).await?;
        let mut repository = storage.repository();
        storage::spawn_purger(
            repository.clone(),
            PURGE_EVERY,
            settings.sync_log_retention,
            &tasks,
        );
        // Rewrites what each read-all covers as stored READ, in chunks.
        storage::spawn_read_all_materializer(&storage, &tasks);
        if let Some(wrap) = interceptors.repository {
            repository = wrap(repository);
        }
        let bus = event_bus(&settings.event_bus, settings.tls_ca.clone(), &tasks).await?;
        let publisher = match interceptors.publisher {
            Some(wrap) => wrap(bus.publisher.clone()),
            None => bus.publisher.clone(),
        };
        let service = NotificationService::new(repository, publisher);
        if let Some(retention) = settings.notification_retention {
            crate::retention::spawn_retention(service.clone(), retention, &tasks);
        }
        let hub = Hub::new(&settings.realtime);
        let healer = Healer::new(hub.clone(), service.clone(), tasks.clone());
        // Lost publishes reach the sockets within one ping interval.
        healer.spawn_checks(settings.realtime.ping_interval);
        bus.subscribe(Arc::new(Pusher::new(healer.clone())));
        let redis = bus.redis;
        let metrics = telemetry::metrics_handle();
        if let Some(handle) = &metrics {
            telemetry::spawn_upkeep(handle.clone(), &tasks);
        }

        let (tokens, dev_tokens) = token_verifier(&settings.auth, &tasks).await?;
        let connections = Arc::new(HubGate::new(healer, settings.realtime, tokens.clone()));
        let state = ApiState {
            service: service.clone(),
            tokens,
            metrics,
            connections,
            websocket: WebSocketOptions {
                allowed_origins: settings
                    .allowed_origins
                    .clone()
                    .map_or_else(AllowedOrigins::any, AllowedOrigins::only),
                max_frame_size: settings
                    .realtime
                    .max_message_size
                    .max(settings.realtime.max_auth_message_size),
            },
        };

        let bind_error = |source| StartupError::Bind {
            addr: settings.bind_addr.clone(),
            source,
        };
        let listener = TcpListener::bind(&settings.bind_addr).map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let half = settings.shutdown_timeout / 2;
        let server = HttpServer::new(move || app(state.clone()))
            // Signals are ours: sockets must hear 1001 before the server stops.
            .disable_signals()
            .shutdown_timeout(half.as_secs().max(1))
            .listen(listener)
            .map_err(bind_error)?
            .run();
        let shutdown = ShutdownHandle {
            hub,
            server: server.handle(),
            socket_drain: half,
            redis,
            tasks,
            storage,
        };
        tracing::info!(addr = %local, database = %settings.database_url, "listening");
        Ok(Self {
            port: local.port(),
            address: reachable(local),
            server,
            shutdown,
            dev_tokens,
            service,
        })
    }

    /// The very service the REST handlers use, for other bounded contexts in
    /// the same binary: what they create is stored and pushed to open sockets
    /// exactly as a `POST /api/v1/notifications` is.
    pub fn notification_service(&self) -> NotificationService {
        self.service.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`, for printing and for tests: a server bound to all
    /// interfaces (`0.0.0.0`, `[::]`) is named by its loopback address, which
    /// a browser on this machine can open.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops the application gracefully from another task.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// The tokens of dev mode, when it is on.
    pub fn dev_tokens(&self) -> Option<&DevTokens> {
        self.dev_tokens.as_ref()
    }

    /// Serves until SIGTERM or SIGINT (then shuts down gracefully) or until a
    /// [`ShutdownHandle`] stops it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let shutdown = self.shutdown;
        // The server future must keep being polled while it shuts down (it
        // handles its own stop command), so the signal waits beside it.
        let on_signal = tokio::spawn(async move {
            termination_signal().await;
            shutdown.shutdown().await;
        });
        let result = self.server.await;
        on_signal.abort();
        result
    }
}

/// The token verifier; in dev mode with a random secret, and ready tokens.
async fn token_verifier(
    auth: &AuthSettings,
    tasks: &BackgroundTasks,
) -> Result<(Arc<TokenVerifier>, Option<DevTokens>), StartupError> {
    let fixed = |jwt: JwtSettings| {
        TokenVerifier::new(jwt)
            .map(Arc::new)
            .map_err(|e| StartupError::Auth(e.to_string()))
    };
    match auth {
        AuthSettings::Configured(jwt) => Ok((fixed(jwt.clone())?, None)),
        AuthSettings::Jwks {
            jwks,
            issuer,
            audience,
        } => {
            let keys = jwks_keys(jwks, tasks).await?;
            let verifier = TokenVerifier::with_jwks(keys, issuer.clone(), audience.clone());
            Ok((Arc::new(verifier), None))
        }
        AuthSettings::Dev => {
            tracing::warn!(
                "DEV MODE: JWT_SECRET is not set; using a random secret for this run only. Never do this in production."
            );
            let key = JwtKey::hs256(dev_mode::random_secret().into_bytes())
                .map_err(|e| StartupError::Auth(e.to_string()))?;
            let tokens = DevTokens::issue(&key).map_err(StartupError::Auth)?;
            Ok((fixed(JwtSettings::new(key))?, Some(tokens)))
        }
    }
}

/// The JWKS, loaded once now if it answers (a node that cannot load it still
/// starts: `/readyz` answers 503 and tokens get 401 until it loads), then kept
/// fresh by a background task.
async fn jwks_keys(
    settings: &JwksSettings,
    tasks: &BackgroundTasks,
) -> Result<Arc<JwksKeys>, StartupError> {
    let keys = JwksKeys::new(settings.clone())
        .map_err(|e| StartupError::Auth(format!("JWT_JWKS_URL: {e}")))?;
    // A failure is logged by the fetch itself.
    let _ = keys.refresh().await;
    let refresher = Arc::clone(&keys);
    let cancelled = tasks.token();
    tasks.spawn(async move {
        tokio::select! {
            () = cancelled.cancelled() => {}
            () = refresher.keep_fresh() => {}
        }
    });
    Ok(keys)
}

/// Resolves on SIGTERM (what orchestrators send) or SIGINT (Ctrl-C).
async fn termination_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The event bus as configured (the Redis bus kept apart too: shutdown stops
/// it): where events are published, and where this
/// node's subscriber is added.
struct Bus {
    publisher: Arc<dyn EventPublisher>,
    local: Option<Arc<InProcessEventBus>>,
    redis: Option<Arc<RedisEventBus>>,
}

impl Bus {
    fn subscribe(&self, subscriber: Arc<dyn EventSubscriber>) {
        if let Some(local) = &self.local {
            local.subscribe(subscriber);
        } else if let Some(redis) = &self.redis {
            redis.subscribe(subscriber);
        }
    }
}

async fn event_bus(
    settings: &EventBusSettings,
    private_ca: Option<PrivateCa>,
    tasks: &BackgroundTasks,
) -> Result<Bus, StartupError> {
    Ok(match settings {
        EventBusSettings::InProcess => {
            let bus = Arc::new(InProcessEventBus::new());
            Bus {
                publisher: bus.clone(),
                local: Some(bus),
                redis: None,
            }
        }
        EventBusSettings::Redis(url) => {
            let config = RedisBusConfig::default().with_private_ca(private_ca);
            let bus = Arc::new(RedisEventBus::connect_with(url, config, tasks).await?);
            tracing::info!("event bus: Redis");
            Bus {
                publisher: bus.clone(),
                local: None,
                redis: Some(bus),
            }
        }
    })
}

/// `notification-api prune`: one retention pass (see [`crate::retention`])
/// and a clean close; returns how many notifications went. Each delete is
/// published on the configured bus, so with Redis the running servers push
/// it; on SQLite it waits for the write lock of running servers (busy timeout).
pub async fn prune_once(settings: &Settings, retention: Duration) -> Result<u64, PruneError> {
    let tasks = BackgroundTasks::new();
    let storage = storage::connect(&settings.database_url, &tasks).await?;
    let bus = event_bus(&settings.event_bus, settings.tls_ca.clone(), &tasks).await?;
    let service = NotificationService::new(storage.repository(), bus.publisher.clone());
    let pruned = crate::retention::prune_once(
        &service,
        retention,
        crate::retention::RETENTION_PAUSE,
        || false,
    )
    .await;
    if let Some(redis) = &bus.redis {
        redis.shutdown().await;
    }
    tasks.shutdown().await;
    storage.close().await;
    Ok(pruned?)
}

/// Why `prune` failed.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("deleting expired notifications: {0}")]
    Delete(#[from] notification_application::ServiceError),
}

impl From<StorageError> for PruneError {
    fn from(error: StorageError) -> Self {
        Self::Startup(error.into())
    }
}

/// `local`, with an unspecified address (bound to every interface) replaced
/// by the loopback address of the same family.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, local.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, local.port()).into(),
        _ => local,
    }
}

#[cfg(test)]
mod reachable_tests {
    use super::reachable;

    #[test]
    fn every_interface_is_named_by_its_loopback_address() {
        let cases = [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8080", "[::1]:8080"),
            ("192.0.2.7:8080", "192.0.2.7:8080"),
            ("[2001:db8::1]:8080", "[2001:db8::1]:8080"),
        ];
        for (bound, named) in cases {
            let bound = bound.parse().unwrap();
            assert_eq!(reachable(bound).to_string(), named, "{bound}");
        }
    }
}
