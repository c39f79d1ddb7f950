//! The app under test, with an in-memory repository and a recording publisher,
//! plus token and request helpers.

use notification_application::realtime::MockConnectionGate;
use notification_presentation::websocket::{AllowedOrigins, WebSocketOptions};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use metrics_exporter_prometheus::PrometheusHandle;
use notification_application::NotificationService;
use notification_domain::{
    DomainEvent, EventPublisher, IdempotencyClaim, IdempotencyKey, IdempotencyRecord,
    IdempotentInsert, ListQuery, Notification, NotificationId, NotificationRepository,
    NotificationStatus, PublishError, ReadAllOutcome, RepositoryError, StatusChange,
    StatusChangeOutcome, StatusFilter, UserId,
};
use notification_presentation::{
    app, ApiState, JwtKey, JwtSettings, TokenIssuer, TokenVerifier, PUBLISH_SCOPE,
};
use serde_json::Value;
use time::OffsetDateTime;
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

/// The app with its fakes. Each request builds the actix app afresh from the
/// same state, as each server worker does.
pub struct TestApp {
    pub state: ApiState,
    pub repository: Arc<InMemoryRepository>,
    pub publisher: Arc<RecordingPublisher>,
    pub issuer: TokenIssuer,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_settings(hs256_settings())
    }

    /// An app verifying tokens with `settings` (tokens from `issuer` are then
    /// only valid for HS256 settings with [`SECRET`]).
    pub fn with_settings(settings: JwtSettings) -> Self {
        let repository = Arc::new(InMemoryRepository::default());
        let publisher = Arc::new(RecordingPublisher::default());
        let service = NotificationService::new(repository.clone(), publisher.clone());
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
            repository,
            publisher,
            issuer,
        }
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

/// How the fake storage should fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Connection refused: the service answers 503.
    Unavailable,
    /// Any other database error: the service answers 500.
    Broken,
}

/// A repository keeping notifications in a `Vec`, with the port's semantics.
#[derive(Default)]
pub struct InMemoryRepository {
    rows: Mutex<Vec<Notification>>,
    /// Idempotency keys, with the time each was recorded. Locked before
    /// `rows` when both are needed.
    keys: Mutex<HashMap<(UserId, IdempotencyKey), (OffsetDateTime, IdempotencyRecord)>>,
    unavailable: AtomicBool,
    broken: AtomicBool,
}

/// What a broken database says; must never reach a client.
pub const INTERNAL_CAUSE: &str = "relation \"notifications\" does not exist";

impl InMemoryRepository {
    pub fn fail_with(&self, failure: Failure) {
        match failure {
            Failure::Unavailable => self.unavailable.store(true, Ordering::SeqCst),
            Failure::Broken => self.broken.store(true, Ordering::SeqCst),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Notification>> {
        self.rows.lock().unwrap()
    }

    fn check(&self) -> Result<(), RepositoryError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(RepositoryError::Unavailable("connection refused".into()));
        }
        if self.broken.load(Ordering::SeqCst) {
            return Err(RepositoryError::Other(INTERNAL_CAUSE.into()));
        }
        Ok(())
    }

    fn unread_of(rows: &[Notification], user: UserId) -> u64 {
        rows.iter()
            .filter(|n| n.user_id() == user && n.status() == NotificationStatus::Unread)
            .count() as u64
    }
}

#[async_trait]
impl NotificationRepository for InMemoryRepository {
    async fn insert(&self, notification: &Notification) -> Result<u64, RepositoryError> {
        self.check()?;
        let mut rows = self.lock();
        rows.push(notification.clone());
        Ok(Self::unread_of(&rows, notification.user_id()))
    }

    async fn insert_idempotent(
        &self,
        notification: &Notification,
        claim: &IdempotencyClaim,
        expired_before: OffsetDateTime,
    ) -> Result<IdempotentInsert, RepositoryError> {
        self.check()?;
        let mut keys = self.keys.lock().unwrap();
        let slot = (claim.publisher, claim.key.clone());
        if let Some((recorded_at, record)) = keys.get(&slot) {
            if *recorded_at >= expired_before {
                return Ok(IdempotentInsert::AlreadyUsed(record.clone()));
            }
        }
        let record = IdempotencyRecord {
            fingerprint: claim.fingerprint,
            notification: notification.clone(),
        };
        keys.insert(slot, (notification.created_at(), record));
        let mut rows = self.lock();
        rows.push(notification.clone());
        let unread_count = Self::unread_of(&rows, notification.user_id());
        Ok(IdempotentInsert::Inserted { unread_count })
    }

    async fn purge_idempotency_keys(
        &self,
        older_than: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        self.check()?;
        let mut keys = self.keys.lock().unwrap();
        let mut budget = limit;
        let before = keys.len();
        keys.retain(|_, (recorded_at, _)| {
            let expired = *recorded_at < older_than && budget > 0;
            budget -= u32::from(expired);
            !expired
        });
        Ok((before - keys.len()) as u64)
    }

    async fn get(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<Notification>, RepositoryError> {
        self.check()?;
        Ok(self
            .lock()
            .iter()
            .find(|n| n.user_id() == user_id && n.id() == id)
            .cloned())
    }

    async fn list(
        &self,
        user_id: UserId,
        query: ListQuery,
    ) -> Result<Vec<Notification>, RepositoryError> {
        self.check()?;
        let mut items: Vec<Notification> = self
            .lock()
            .iter()
            .filter(|n| n.user_id() == user_id)
            .filter(|n| match query.filter {
                StatusFilter::Inbox => n.status() != NotificationStatus::Archived,
                StatusFilter::Only(status) => n.status() == status,
            })
            .filter(|n| query.before.is_none_or(|before| n.id() < before))
            .cloned()
            .collect();
        items.sort_by_key(|n| std::cmp::Reverse(n.id()));
        items.truncate(query.limit as usize);
        Ok(items)
    }

    async fn unread_count(&self, user_id: UserId) -> Result<u64, RepositoryError> {
        self.check()?;
        Ok(Self::unread_of(&self.lock(), user_id))
    }

    async fn change_status(
        &self,
        user_id: UserId,
        id: NotificationId,
        change: StatusChange,
        at: OffsetDateTime,
    ) -> Result<Option<StatusChangeOutcome>, RepositoryError> {
        self.check()?;
        let mut rows = self.lock();
        let Some(row) = rows
            .iter_mut()
            .find(|n| n.id() == id && n.user_id() == user_id)
        else {
            return Ok(None);
        };
        let changed = change.apply_to(row, at);
        let notification = row.clone();
        Ok(Some(StatusChangeOutcome {
            notification,
            changed,
            unread_count: Self::unread_of(&rows, user_id),
        }))
    }

    async fn mark_all_read(
        &self,
        user_id: UserId,
        read_at: OffsetDateTime,
    ) -> Result<ReadAllOutcome, RepositoryError> {
        self.check()?;
        let mut rows = self.lock();
        let updated = rows
            .iter_mut()
            .filter(|n| n.user_id() == user_id)
            .map(|n| n.mark_read(read_at))
            .filter(|changed| *changed)
            .count() as u64;
        Ok(ReadAllOutcome {
            updated,
            unread_count: Self::unread_of(&rows, user_id),
        })
    }

    async fn delete(
        &self,
        user_id: UserId,
        id: NotificationId,
    ) -> Result<Option<u64>, RepositoryError> {
        self.check()?;
        let mut rows = self.lock();
        let before = rows.len();
        rows.retain(|n| !(n.user_id() == user_id && n.id() == id));
        Ok((rows.len() < before).then(|| Self::unread_of(&rows, user_id)))
    }

    async fn list_after(
        &self,
        user_id: UserId,
        after: NotificationId,
        limit: u32,
    ) -> Result<Vec<Notification>, RepositoryError> {
        self.check()?;
        let mut items: Vec<Notification> = self
            .lock()
            .iter()
            .filter(|n| n.user_id() == user_id && n.id() > after)
            .cloned()
            .collect();
        items.sort_by_key(Notification::id);
        items.truncate(limit as usize);
        Ok(items)
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.check()
    }
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
