//! Spawning the real server and talking to it.

use clap::Parser;
use notification_api::cli::Cli;
use notification_api::startup::Interceptors;
use notification_api::ShutdownHandle;
use notification_api::{Application, Settings};
use notification_application::{NotificationService, PageRequest, MAX_PAGE_SIZE};
use notification_domain::{StatusFilter, UserId};
use notification_infrastructure::testing::{fresh_postgres_database, fresh_sqlite_url};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::tokens::{mint, TokenKind, TEST_SECRET};

/// Which database the server under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A database for one test. PostgreSQL: one fresh database per test
    /// process, shared by its tests (each test uses its own random users).
    pub async fn database_url(self) -> String {
        static POSTGRES: OnceCell<String> = OnceCell::const_new();
        match self {
            Self::Sqlite => fresh_sqlite_url(),
            Self::Postgres => POSTGRES.get_or_init(fresh_postgres_database).await.clone(),
        }
    }
}

/// A running server and an HTTP client for it.
pub struct TestApp {
    pub base_url: String,
    pub database_url: String,
    pub client: reqwest::Client,
    /// The service the REST handlers use, as another bounded context in the
    /// same binary gets it ([`Application::notification_service`]).
    pub service: NotificationService,
    shutdown: ShutdownHandle,
}

/// A server on a random port with the test secret and a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(&backend.database_url().await, &[]).await
}

/// A server on `database_url` with extra command-line flags (e.g. short
/// WebSocket timeouts).
pub async fn spawn_app_with(database_url: &str, flags: &[&str]) -> TestApp {
    let mut all = vec!["--jwt-secret", TEST_SECRET];
    all.extend_from_slice(flags);
    spawn_app_with_auth(database_url, &all).await
}

/// A server on `database_url` whose token settings are only `flags` (e.g.
/// `--jwt-public-key-file`, `--jwt-issuer`, `--jwt-audience`): the test
/// secret is not set unless `flags` set it.
pub async fn spawn_app_with_auth(database_url: &str, flags: &[&str]) -> TestApp {
    spawn_app_configured(database_url, flags, |_| {}, Interceptors::default()).await
}

/// [`spawn_app_with_auth`], with the parsed settings changed by `adjust`
/// before the server is built (for what no flag sets, such as the JWKS
/// refetch timing).
pub async fn spawn_app_with_settings(
    database_url: &str,
    flags: &[&str],
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_app_configured(database_url, flags, adjust, Interceptors::default()).await
}

/// A server on `database_url` with `flags` as they are (add the test secret
/// yourself) and its storage or bus ports wrapped by `interceptors` (a slow
/// repository, a lossy publisher).
pub async fn spawn_app_intercepted(
    database_url: &str,
    flags: &[&str],
    interceptors: Interceptors,
) -> TestApp {
    spawn_app_configured(database_url, flags, |_| {}, interceptors).await
}

async fn spawn_app_configured(
    database_url: &str,
    flags: &[&str],
    adjust: impl FnOnce(&mut Settings),
    interceptors: Interceptors,
) -> TestApp {
    let mut argv = vec![
        "notification-api",
        "--bind-addr",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--rust-log",
        "warn",
    ];
    argv.extend_from_slice(flags);
    let cli = Cli::try_parse_from(argv).expect("test flags parse");
    let mut settings = Settings::from_args(&cli.config).expect("test settings are valid");
    adjust(&mut settings);
    notification_api::telemetry::init_tracing(&settings.rust_log);
    let application = Application::build_with(settings, interceptors)
        .await
        .expect("the server builds");
    let base_url = application.base_url();
    let shutdown = application.shutdown_handle();
    let service = application.notification_service();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        base_url,
        database_url: database_url.to_owned(),
        client: reqwest::Client::new(),
        service,
        shutdown,
    }
}

impl TestApp {
    /// Stops the server gracefully (sockets get 1001) and waits for it.
    pub async fn stop(&self) {
        self.shutdown.shutdown().await;
    }

    /// A fresh user and their token.
    pub fn new_user(&self) -> (Uuid, String) {
        let user = Uuid::now_v7();
        (user, mint(TokenKind::User, user))
    }

    /// A token of `user`, signed with the test secret.
    pub fn user_token(&self, user: Uuid) -> String {
        mint(TokenKind::User, user)
    }

    /// How many notifications `user` has in the inbox (unarchived), read
    /// through the service the handlers use.
    pub async fn stored_for(&self, user: Uuid) -> usize {
        let request = PageRequest {
            filter: StatusFilter::Inbox,
            cursor: None,
            limit: MAX_PAGE_SIZE,
        };
        let page = self
            .service
            .list(UserId::from_uuid(user), request)
            .await
            .expect("the inbox can be read");
        page.items.len()
    }

    /// A token allowed to publish.
    pub fn publisher_token(&self) -> String {
        mint(TokenKind::Publisher, Uuid::now_v7())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Any request, with an optional bearer token.
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request reaches the server")
    }

    /// `POST /api/v1/notifications` with a raw body.
    pub async fn create_raw(&self, token: &str, body: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url("/api/v1/notifications"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request reaches the server")
    }

    /// `POST /api/v1/notifications` with a JSON body.
    pub async fn create_json(&self, token: &str, body: &Value) -> Response {
        self.create_raw(token, body.to_string()).await
    }

    /// Creates a notification for `user` as a publisher; returns the resource.
    pub async fn create_for(&self, user: Uuid, title: &str) -> Value {
        let body = json!({"user_id": user, "title": title, "message": format!("message of {title}"), "type": "INFO"});
        let response = self.create_json(&self.publisher_token(), &body).await;
        assert_eq!(response.status(), 201, "create answers 201");
        response.json().await.expect("create returns JSON")
    }

    /// `GET /api/v1/notifications{query}` → (status, body).
    pub async fn list(&self, token: &str, query: &str) -> (u16, Value) {
        let response = self
            .request(
                Method::GET,
                &format!("/api/v1/notifications{query}"),
                Some(token),
            )
            .await;
        status_and_json(response).await
    }

    /// `GET /api/v1/notifications/{id}` → (status, body).
    pub async fn get(&self, token: &str, id: &str) -> (u16, Value) {
        let response = self
            .request(
                Method::GET,
                &format!("/api/v1/notifications/{id}"),
                Some(token),
            )
            .await;
        status_and_json(response).await
    }

    /// `POST /api/v1/notifications/{id}/{action}` (read, unread, archive) → (status, body).
    pub async fn act(&self, token: &str, id: &str, action: &str) -> (u16, Value) {
        let response = self
            .request(
                Method::POST,
                &format!("/api/v1/notifications/{id}/{action}"),
                Some(token),
            )
            .await;
        status_and_json(response).await
    }

    /// `POST /api/v1/notifications/read-all` → (status, body).
    pub async fn read_all(&self, token: &str) -> (u16, Value) {
        let response = self
            .request(Method::POST, "/api/v1/notifications/read-all", Some(token))
            .await;
        status_and_json(response).await
    }

    /// `DELETE /api/v1/notifications/{id}` → status.
    pub async fn delete(&self, token: &str, id: &str) -> u16 {
        self.request(
            Method::DELETE,
            &format!("/api/v1/notifications/{id}"),
            Some(token),
        )
        .await
        .status()
        .as_u16()
    }

    /// `GET /api/v1/notifications/unread-count` → the count (asserts 200).
    pub async fn unread_count(&self, token: &str) -> u64 {
        let response = self
            .request(
                Method::GET,
                "/api/v1/notifications/unread-count",
                Some(token),
            )
            .await;
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 200, "unread-count answers 200: {body}");
        body["unread_count"]
            .as_u64()
            .expect("unread_count is a number")
    }
}

/// The status and the JSON body (`null` when the body is empty or not JSON).
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}
