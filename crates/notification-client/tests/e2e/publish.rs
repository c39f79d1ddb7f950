//! Publishing through the SDK: `create` and `create_batch` against the real
//! server, their idempotency keys, a retry after a lost answer, and a
//! caller's HTTP client.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use notification_client::protocol::CreateNotificationRequest;
use notification_client::{ClientError, NotificationClient};
use notification_e2e::{on_both_backends, spawn_app, Backend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::support::{addr, client, config};

fn draft(user: Uuid, title: &str) -> CreateNotificationRequest {
    CreateNotificationRequest {
        user_id: user,
        title: title.to_owned(),
        message: format!("message of {title}"),
        notification_type: None,
        metadata: None,
    }
}

async fn create_stores_with_a_generated_or_given_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, token) = app.new_user();
    let publisher = client(&app.base_url, &app.publisher_token());

    let first = publisher.create(&draft(user, "generated")).await.unwrap();
    let second = publisher.create(&draft(user, "generated")).await.unwrap();
    assert_ne!(
        first.notification_id, second.notification_id,
        "each create has a key of its own"
    );
    let key = Uuid::now_v7().to_string();
    let given = publisher
        .create_with_key(&draft(user, "given"), &key)
        .await
        .unwrap();
    let repeated = publisher
        .create_with_key(&draft(user, "given"), &key)
        .await
        .unwrap();
    assert_eq!(given.notification_id, repeated.notification_id);
    assert_eq!(
        app.stored_for(user).await,
        3,
        "the repeated key stored nothing"
    );
    let inbox = client(&app.base_url, &token);
    assert_eq!(
        inbox.get(given.notification_id).await.unwrap().title,
        "given"
    );

    // A user token cannot publish: the contract's 403, not retried.
    let refused = inbox.create(&draft(user, "not mine")).await.unwrap_err();
    assert_eq!(refused.status(), Some(403));
    app.stop().await;
}

/// A proxy that forwards the first connection's request but closes it before
/// the answer comes back (the server did store it), and relays the later
/// connections whole. Keeps each connection's request bytes.
struct LosingProxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl LosingProxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        tokio::spawn(async move {
            let mut index = 0;
            while let Ok((downstream, _)) = listener.accept().await {
                let log = log.clone();
                let lose_answer = index == 0;
                index += 1;
                tokio::spawn(relay(downstream, upstream, log, lose_answer));
            }
        });
        Self { addr, requests }
    }

    fn requests(&self) -> Vec<String> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect()
    }
}

async fn relay(
    downstream: TcpStream,
    upstream: SocketAddr,
    log: Arc<Mutex<Vec<Vec<u8>>>>,
    lose_answer: bool,
) {
    let upstream = TcpStream::connect(upstream).await.unwrap();
    let (mut down_read, mut down_write) = downstream.into_split();
    let (mut up_read, mut up_write) = upstream.into_split();
    let slot = {
        let mut log = log.lock().unwrap();
        log.push(Vec::new());
        log.len() - 1
    };
    let requests = tokio::spawn(async move {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read @ 1..) = down_read.read(&mut buffer).await {
            log.lock().unwrap()[slot].extend_from_slice(&buffer[..read]);
            if up_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    });
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(read @ 1..) = up_read.read(&mut buffer).await {
        if lose_answer {
            // The server answered, so it stored the notification: the client
            // sees the connection end with no answer at all.
            break;
        }
        if down_write.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    requests.abort();
}

fn idempotency_key(request: &str) -> Option<&str> {
    request.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("idempotency-key")
            .then(|| value.trim())
    })
}

async fn a_create_retried_after_a_lost_answer_stores_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, _) = app.new_user();
    let proxy = LosingProxy::start(addr(&app)).await;
    let publisher = client(&format!("http://{}", proxy.addr), &app.publisher_token());

    let created = publisher.create(&draft(user, "once")).await.unwrap();

    let requests = proxy.requests();
    assert_eq!(
        requests.len(),
        2,
        "one lost attempt, one retry: {requests:?}"
    );
    let keys: Vec<_> = requests.iter().map(|r| idempotency_key(r)).collect();
    assert!(keys[0].is_some(), "a key was generated");
    assert_eq!(keys[0], keys[1], "the retry repeats the key");
    assert_eq!(app.stored_for(user).await, 1, "stored once");
    let inbox = client(&app.base_url, &app.user_token(user));
    let listed = inbox.list(&Default::default()).await.unwrap();
    assert_eq!(listed.items[0].notification_id, created.notification_id);
    app.stop().await;
}

async fn a_callers_http_client_is_used(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, _) = app.new_user();
    let server = addr(&app);
    // Only this client can find `inbox.invalid`: a call that succeeds went
    // through it.
    let http = reqwest::Client::builder()
        .resolve("inbox.invalid", server)
        .build()
        .unwrap();
    let base_url = format!("http://inbox.invalid:{}", server.port());
    let publisher =
        NotificationClient::new(config(&base_url, &app.publisher_token()).with_http_client(http))
            .unwrap();
    let created = publisher
        .create(&draft(user, "via the caller's client"))
        .await
        .unwrap();
    assert_eq!(created.user_id, user);
    app.stop().await;
}

async fn create_batch_returns_the_notifications_in_order_and_a_repeated_key_stores_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ((alice, _), (bob, _)) = (app.new_user(), app.new_user());
    let publisher = client(&app.base_url, &app.publisher_token());
    let drafts = [draft(alice, "a1"), draft(bob, "b1"), draft(alice, "a2")];

    let created = publisher.create_batch(&drafts).await.unwrap();
    let titles: Vec<&str> = created.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["a1", "b1", "a2"]);
    assert_eq!(created[1].user_id, bob);

    let key = Uuid::now_v7().to_string();
    let first = publisher
        .create_batch_with_key(&drafts, &key)
        .await
        .unwrap();
    let again = publisher
        .create_batch_with_key(&drafts, &key)
        .await
        .unwrap();
    assert_eq!(first, again, "the same list");
    assert_eq!(app.stored_for(alice).await, 4, "the repeat stored nothing");

    // One bad draft: nothing stored, the error names it.
    let mut broken = drafts.to_vec();
    broken[1].title = " ".to_owned();
    match publisher.create_batch(&broken).await.unwrap_err() {
        ClientError::Api { status, field, .. } => {
            assert_eq!(
                (status, field.as_deref()),
                (422, Some("notifications[1].title"))
            );
        }
        other => panic!("expected the 422, got {other:?}"),
    }
    assert_eq!(app.stored_for(bob).await, 2);
    app.stop().await;
}

async fn a_batch_retried_after_a_lost_answer_stores_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, _) = app.new_user();
    let proxy = LosingProxy::start(addr(&app)).await;
    let publisher = client(&format!("http://{}", proxy.addr), &app.publisher_token());

    let created = publisher
        .create_batch(&[draft(user, "one"), draft(user, "two")])
        .await
        .unwrap();

    let requests = proxy.requests();
    assert_eq!(requests.len(), 2, "one lost attempt, one retry");
    let keys: Vec<_> = requests.iter().map(|r| idempotency_key(r)).collect();
    assert!(keys[0].is_some(), "a key was generated");
    assert_eq!(keys[0], keys[1], "the retry repeats the key");
    assert_eq!(app.stored_for(user).await, 2, "stored once");
    let inbox = client(&app.base_url, &app.user_token(user));
    let listed = inbox.list(&Default::default()).await.unwrap();
    let mut listed: Vec<Uuid> = listed.items.iter().map(|n| n.notification_id).collect();
    listed.reverse();
    let created: Vec<Uuid> = created.iter().map(|n| n.notification_id).collect();
    assert_eq!(
        listed, created,
        "what the retry answered is what was stored"
    );
    app.stop().await;
}

on_both_backends!(
    create_stores_with_a_generated_or_given_key,
    a_create_retried_after_a_lost_answer_stores_once,
    create_batch_returns_the_notifications_in_order_and_a_repeated_key_stores_nothing,
    a_batch_retried_after_a_lost_answer_stores_once,
    a_callers_http_client_is_used,
);
