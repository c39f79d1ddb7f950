//! The app under test, on the real SQLite adapter (an in-memory database per
//! app) with a recording publisher, plus token and request helpers.

use notification_application::realtime::MockConnectionGate;
use notification_presentation::websocket::{AllowedOrigins, WebSocketOptions};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use metrics_exporter_prometheus::PrometheusHandle;
use notification_application::{NotificationService, PageRequest, MAX_PAGE_SIZE};
use notification_domain::{
    DomainEvent, EventPublisher, MockNotificationRepository, NotificationRepository, PublishError,
    RepositoryError, StatusFilter, UserId,
};
use notification_infrastructure::storage::{self, DatabaseUrl};
use notification_presentation::{
    app, ApiState, JwtKey, JwtSettings, TokenIssuer, TokenVerifier, PUBLISH_SCOPE,
};
use serde_json::Value;
use uuid::Uuid;

/// The HS256 secret of the default test app (36 bytes).
pub const SECRET: &[u8] = b"test-secret-0123456789-0123456789-ab";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn hs256_settings() -> JwtSettings {
    JwtSettings::new(JwtKey::hs256(SECRET).unwrap())
}

/// Signs arbitrary claims with an arbitrary header and key.
pub fn sign(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

pub fn hs256_key(secret: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(secret)
}

pub fn rsa_key(fixture_name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(fixture(fixture_name).as_bytes()).unwrap()
}

pub fn ec_key(fixture_name: &str) -> EncodingKey {
    EncodingKey::from_ec_pem(fixture(fixture_name).as_bytes()).unwrap()
}

/// Claims of a valid token for `sub`, valid for an hour.
pub fn claims_for(sub: Uuid) -> Value {
    serde_json::json!({ "sub": sub.to_string(), "exp": unix_now() + 3600 })
}

/// A response read to the end.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts the status and the contract's error shape with this `code`;
    /// returns the `error` object.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) -> Value {
        let body = self.json();
        assert_eq!(self.status, status, "body: {body}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "error bodies are JSON"
        );
        let object = body.as_object().expect("an object");
        assert_eq!(object.len(), 1, "only `error` at the top: {body}");
        let error = body["error"].as_object().expect("`error` is an object");
        assert_eq!(error["code"], code, "body: {body}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "a message: {body}"
        );
        for key in error.keys() {
            assert!(
                ["code", "message", "field"].contains(&key.as_str()),
                "unexpected key {key}: {body}"
            );
        }
        body["error"].clone()
    }

    /// Asserts a 422 naming `field`.
    #[track_caller]
    pub fn assert_invalid_field(&self, field: &str) {
        let error = self.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(error["field"], field, "error: {error}");
    }
}

/// The app on a fresh SQLite database. Each request builds the actix app
/// afresh from the same state, as each server worker does.
pub struct TestApp {
    pub state: ApiState,
    pub publisher: Arc<RecordingPublisher>,
    pub issuer: TokenIssuer,
}

/// A fresh, empty in-memory SQLite database behind the real adapter.
async fn fresh_storage() -> Arc<dyn NotificationRepository> {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    storage::connect(&url).await.unwrap().repository()
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(hs256_settings()).await
    }

    /// An app verifying tokens with `settings` (tokens from `issuer` are then
    /// only valid for HS256 settings with [`SECRET`]).
    pub async fn with_settings(settings: JwtSettings) -> Self {
        Self::build(settings, fresh_storage().await)
    }

    /// An app on `repository` instead of a database (to make storage fail).
    pub fn with_repository(repository: MockNotificationRepository) -> Self {
        Self::build(hs256_settings(), Arc::new(repository))
    }

    fn build(settings: JwtSettings, repository: Arc<dyn NotificationRepository>) -> Self {
        let publisher = Arc::new(RecordingPublisher::default());
        let service = NotificationService::new(repository, publisher.clone());
        let issuer = TokenIssuer::from_settings(&settings)
            .or_else(|_| TokenIssuer::from_settings(&hs256_settings()))
            .unwrap();
        let tokens = Arc::new(TokenVerifier::new(settings).unwrap());
        Self {
            state: ApiState {
                service,
                tokens,
                metrics: None,
                // REST tests never open a socket: any call would fail the test.
                connections: Arc::new(MockConnectionGate::new()),
                websocket: WebSocketOptions {
                    allowed_origins: AllowedOrigins::any(),
                    max_frame_size: 8 * 1024,
                },
            },
            publisher,
            issuer,
        }
    }

    /// How many notifications `user` has in storage (none are archived in
    /// the tests that ask).
    pub async fn stored_for(&self, user: Uuid) -> usize {
        let request = PageRequest {
            filter: StatusFilter::Inbox,
            cursor: None,
            limit: MAX_PAGE_SIZE,
        };
        let page = self
            .state
            .service
            .list(UserId::from_uuid(user), request)
            .await
            .unwrap();
        page.items.len()
    }

    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.state.metrics = Some(handle);
        self
    }

    pub fn user_token(&self, user: Uuid) -> String {
        self.issuer
            .issue(user, None, Duration::from_secs(3600))
            .unwrap()
    }

    pub fn publisher_token(&self, user: Uuid) -> String {
        self.issuer
            .issue(user, Some(PUBLISH_SCOPE), Duration::from_secs(3600))
            .unwrap()
    }

    pub async fn send(&self, request: TestRequest) -> Reply {
        let service = test::init_service(app(self.state.clone())).await;
        let response = test::call_service(&service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(TestRequest::get().uri(path).insert_header(bearer(token)))
            .await
    }

    pub async fn post(&self, path: &str, token: &str) -> Reply {
        self.send(TestRequest::post().uri(path).insert_header(bearer(token)))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(TestRequest::delete().uri(path).insert_header(bearer(token)))
            .await
    }

    pub async fn create(&self, token: &str, body: &Value) -> Reply {
        self.send(
            TestRequest::post()
                .uri("/api/v1/notifications")
                .insert_header(bearer(token))
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(body.to_string()),
        )
        .await
    }

    /// Creates a notification for `user` through the API; returns its id.
    pub async fn create_for(&self, user: Uuid, title: &str) -> String {
        let publisher = self.publisher_token(Uuid::now_v7());
        let reply = self
            .create(
                &publisher,
                &serde_json::json!({"user_id": user, "title": title, "message": "m"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.json()["notification_id"].as_str().unwrap().to_owned()
    }
}

pub fn bearer(token: &str) -> (actix_web::http::header::HeaderName, String) {
    (AUTHORIZATION, format!("Bearer {token}"))
}

/// A repository whose every call fails with `error()`: the database as the
/// service sees it when it is down (`Unavailable`, a 503) or broken (`Other`,
/// a 500). Everything that works is tested on the real SQLite adapter.
pub fn storage_failing_with(error: fn() -> RepositoryError) -> MockNotificationRepository {
    let mut repository = MockNotificationRepository::new();
    repository.expect_insert().returning(move |_| Err(error()));
    repository
        .expect_insert_idempotent()
        .returning(move |_, _, _| Err(error()));
    repository.expect_get().returning(move |_, _| Err(error()));
    repository.expect_list().returning(move |_, _| Err(error()));
    repository
        .expect_unread_count()
        .returning(move |_| Err(error()));
    repository.expect_ping().returning(move || Err(error()));
    repository
}

/// Storage that cannot be reached.
pub fn unavailable() -> RepositoryError {
    RepositoryError::Unavailable("connection refused".into())
}

/// What a broken database says; must never reach a client.
pub const INTERNAL_CAUSE: &str = "relation \"notifications\" does not exist";

/// Storage that answers with an error of its own.
pub fn broken() -> RepositoryError {
    RepositoryError::Other(INTERNAL_CAUSE.into())
}

/// Keeps every published event.
#[derive(Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<DomainEvent>>,
}

impl RecordingPublisher {
    pub fn events(&self) -> Vec<DomainEvent> {
        self.events.lock().unwrap().clone()
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, event: DomainEvent) -> Result<(), PublishError> {
        self.events.lock().unwrap().push(event);
        Ok(())
    }

    async fn ping(&self) -> Result<(), PublishError> {
        Ok(())
    }
}
