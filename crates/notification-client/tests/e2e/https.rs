//! The default `rustls` feature: the SDK publishes and reads over `https://`
//! and subscribes over `wss://` (a TLS front, signed by a private CA, before
//! the real server), with the CA from the caller's HTTP client or from
//! `ClientConfig::ca_certificates_pem`.

use std::net::SocketAddr;
use std::sync::Arc;

use notification_client::protocol::CreateNotificationRequest;
use notification_client::{ClientError, DisconnectReason, Event, NotificationClient};
use notification_e2e::{spawn_app, Backend};
use notification_infrastructure::testing::TestCa;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::support::{addr, config, connected, next_event};

/// Terminates TLS with `ca`'s server certificate and relays to `upstream`.
async fn tls_front(ca: &TestCa, upstream: SocketAddr) -> SocketAddr {
    let chain = CertificateDer::pem_file_iter(ca.server_cert_file())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(ca.server_key_file()).unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut secure) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut plain = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut secure, &mut plain).await;
            });
        }
    });
    front
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_and_reads_over_https() {
    let app = spawn_app(Backend::Sqlite).await;
    let ca = TestCa::new();
    let front = tls_front(&ca, addr(&app)).await;
    let root = std::fs::read(ca.ca_file()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&root).unwrap())
        .build()
        .unwrap();
    let base_url = format!("https://localhost:{}", front.port());
    let (user, token) = app.new_user();

    let publisher = NotificationClient::new(
        config(&base_url, &app.publisher_token()).with_http_client(http.clone()),
    )
    .unwrap();
    let draft = CreateNotificationRequest {
        user_id: user,
        title: "over TLS".to_owned(),
        message: "m".to_owned(),
        notification_type: None,
        metadata: None,
    };
    let created = publisher.create(&draft).await.unwrap();

    let inbox = NotificationClient::new(config(&base_url, &token).with_http_client(http)).unwrap();
    assert_eq!(
        inbox.get(created.notification_id).await.unwrap().title,
        "over TLS"
    );

    // Without the private CA the certificate is refused: TLS really ran.
    let untrusting = NotificationClient::new(config(&base_url, &token)).unwrap();
    assert!(matches!(
        untrusting.unread_count().await,
        Err(ClientError::Transport(_))
    ));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribes_over_wss_and_calls_over_https_with_a_private_ca_from_the_config() {
    let app = spawn_app(Backend::Sqlite).await;
    let ca = TestCa::new();
    let front = tls_front(&ca, addr(&app)).await;
    let root = std::fs::read(ca.ca_file()).unwrap();
    let base_url = format!("https://localhost:{}", front.port());
    let (user, token) = app.new_user();
    let inbox =
        NotificationClient::new(config(&base_url, &token).with_ca_certificates_pem(root.clone()))
            .unwrap();
    let mut subscription = inbox.subscribe();
    connected(&mut subscription).await;

    let publisher = NotificationClient::new(
        config(&base_url, &app.publisher_token()).with_ca_certificates_pem(root),
    )
    .unwrap();
    let created = publisher
        .create_batch(&[CreateNotificationRequest {
            user_id: user,
            title: "over wss".to_owned(),
            message: "m".to_owned(),
            notification_type: None,
            metadata: None,
        }])
        .await
        .unwrap();

    match next_event(&mut subscription).await {
        Event::Notification {
            notification, seq, ..
        } => {
            assert_eq!(notification, created[0]);
            assert_eq!(seq, 1);
        }
        other => panic!("expected the notification, got {other:?}"),
    }
    assert_eq!(inbox.unread_count().await.unwrap(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_without_the_private_ca_is_refused_by_the_tls_handshake() {
    let app = spawn_app(Backend::Sqlite).await;
    let ca = TestCa::new();
    let front = tls_front(&ca, addr(&app)).await;
    let base_url = format!("https://localhost:{}", front.port());
    let (_, token) = app.new_user();
    let untrusting = NotificationClient::new(config(&base_url, &token)).unwrap();
    let mut subscription = untrusting.subscribe_after_seq(0);

    match next_event(&mut subscription).await {
        Event::Disconnected {
            reason: DisconnectReason::Network(why),
            ..
        } => assert!(why.to_lowercase().contains("certificate"), "{why}"),
        other => panic!("expected a refused handshake, got {other:?}"),
    }
    app.stop().await;
}

#[test]
fn a_ca_option_without_a_certificate_is_refused_at_once() {
    let outcome = NotificationClient::new(
        config("https://localhost:1", "t").with_ca_certificates_pem(b"no pem here".to_vec()),
    );
    assert!(matches!(
        outcome,
        Err(ClientError::InvalidCaCertificates { .. })
    ));
}
