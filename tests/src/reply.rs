//! Whole answers (status, headers, body) and the contract's error shape, for
//! tests that look at more than the status and the JSON body.

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::app::TestApp;

/// A response read to the end.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON; panics (fails the test) when it is not.
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
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
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
        let error = self.assert_error(422, "validation_failed");
        assert_eq!(error["field"], field, "error: {error}");
    }
}

impl TestApp {
    /// A request to `path` on this server, to finish and [`send`](Self::send).
    pub fn http(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends `request` and reads the whole answer.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("the body arrives").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `method path` with `token` as bearer, read whole.
    pub async fn call(&self, method: Method, path: &str, token: &str) -> Reply {
        self.send(self.http(method, path).bearer_auth(token)).await
    }
}

impl TestApp {
    /// `POST /api/v1/notifications` with a JSON body, read whole.
    pub async fn create(&self, token: &str, body: &Value) -> Reply {
        let request = self.create_request(token, body.to_string());
        self.send(request.header("content-type", "application/json"))
            .await
    }

    /// A create request with a raw body and no content type, to finish and
    /// [`send`](Self::send).
    pub fn create_request(&self, token: &str, body: impl Into<reqwest::Body>) -> RequestBuilder {
        self.http(Method::POST, "/api/v1/notifications")
            .bearer_auth(token)
            .body(body)
    }

    /// Creates a notification for `user` as a publisher; returns its id.
    pub async fn create_id(&self, user: uuid::Uuid, title: &str) -> String {
        self.create_for(user, title).await["notification_id"]
            .as_str()
            .expect("the resource has an id")
            .to_owned()
    }
}
