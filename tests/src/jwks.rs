//! An identity provider's JWKS endpoint, played by the test: a small HTTP
//! server whose answer the test changes (keys rotate, the endpoint fails) and
//! which counts how often it was asked; over http, or https with the
//! certificate of a [`TestCa`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use notification_infrastructure::testing::TestCa;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// What the endpoint answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with this JSON body.
    Json(Value),
    /// This status with an empty body.
    Status(u16),
}

/// A running JWKS endpoint on 127.0.0.1; stops when dropped.
pub struct JwksServer {
    url: String,
    answer: Arc<Mutex<Answer>>,
    fetches: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl JwksServer {
    /// Over plain http.
    pub async fn start(answer: Answer) -> Self {
        Self::start_with(answer, None).await
    }

    /// Over https, with the server certificate of `ca` (for 127.0.0.1).
    pub async fn start_tls(answer: Answer, ca: &TestCa) -> Self {
        let chain = CertificateDer::pem_file_iter(ca.server_cert_file())
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(ca.server_key_file()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        Self::start_with(answer, Some(TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn start_with(answer: Answer, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!(
            "{scheme}://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let answer = Arc::new(Mutex::new(answer));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (shared, counted) = (answer.clone(), fetches.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let answer = shared.lock().unwrap().clone();
                counted.fetch_add(1, Ordering::SeqCst);
                match &tls {
                    None => drop(tokio::spawn(respond(stream, answer))),
                    Some(tls) => {
                        let accepting = tls.accept(stream);
                        tokio::spawn(async move {
                            // A client that refuses our certificate ends here.
                            if let Ok(stream) = accepting.await {
                                respond(stream, answer).await;
                            }
                        });
                    }
                }
            }
        });
        Self {
            url,
            answer,
            fetches,
            task,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers `answer` from now on.
    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// How many requests arrived so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head, answers it and closes the connection.
async fn respond(mut stream: impl AsyncRead + AsyncWrite + Unpin, answer: Answer) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let (status, body) = match answer {
        Answer::Json(value) => (200, value.to_string()),
        Answer::Status(status) => (status, String::new()),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The public JWK of `key` (a private key for `algorithm`) named `kid`.
pub fn public_jwk(key: &EncodingKey, algorithm: Algorithm, kid: Option<&str>) -> Value {
    let mut jwk = Jwk::from_encoding_key(key, algorithm).unwrap();
    jwk.common.key_id = kid.map(str::to_owned);
    serde_json::to_value(jwk).unwrap()
}

/// `{"keys": [...]}`.
pub fn key_set(keys: &[Value]) -> Answer {
    Answer::Json(json!({ "keys": keys }))
}

/// Signs `claims` with `key` for `algorithm`, naming `kid` in the header.
pub fn sign_with_kid(
    claims: &Value,
    algorithm: Algorithm,
    key: &EncodingKey,
    kid: Option<&str>,
) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}
