//! PostgreSQL goes away under load and comes back (issue "Never lose a
//! notification"): while it is down every request fails fast with 503 in the
//! contract's error shape (never a 500, never a hang) and `/readyz` says 503;
//! once it is back the same process serves again by itself, without a restart.
//! Open sockets stay open throughout.
//!
//! The database is a private PostgreSQL of this test's own: stopping the shared
//! test server would break every other test running at the same time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::collections::HashSet;
use std::time::{Duration, Instant};

use notification_e2e::ws::Connect;
use notification_e2e::{spawn_app_with, TestApp};
use notification_infrastructure::testing::PrivatePostgres;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

/// Creators posting at the same time, as fast as they can.
const CREATORS: usize = 4;
/// The longest a request may take to be answered, outage or not. The pool
/// gives up on a connection after its acquire timeout (3 s); this bound leaves
/// room for a busy machine while still catching a request that hangs.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// How long the service may take to serve again once the database is back.
const RECOVER_WITHIN: Duration = Duration::from_secs(15);

/// One answered create request.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    started: Instant,
    took: Duration,
}

/// Posts notifications for `user` until told to stop; sends every answer.
/// A request that gets no answer within [`ANSWER_WITHIN`] (a hang, a dropped
/// connection) is sent as status 0.
fn spawn_creator(
    app: &TestApp,
    user: Uuid,
    answers: mpsc::UnboundedSender<Answer>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let url = app.url("/api/v1/notifications");
    let publisher = app.publisher_token();
    let client = reqwest::Client::builder()
        .timeout(ANSWER_WITHIN)
        .build()
        .expect("an HTTP client");
    tokio::spawn(async move {
        let mut n = 0;
        while !*stop.borrow_and_update() {
            n += 1;
            let started = Instant::now();
            let sent = client
                .post(&url)
                .bearer_auth(&publisher)
                .json(&json!({"user_id": user, "title": format!("n{n}"), "message": "m"}))
                .send()
                .await;
            let (status, body) = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (status, response.json().await.unwrap_or(Value::Null))
                }
                Err(error) => (0, Value::String(error.to_string())),
            };
            let answer = Answer {
                status,
                body,
                started,
                took: started.elapsed(),
            };
            if answers.send(answer).is_err() {
                return;
            }
        }
    })
}

/// The next answer of any creator; every one must be a 201 or a proper 503.
async fn next_answer(answers: &mut mpsc::UnboundedReceiver<Answer>) -> Answer {
    let answer = tokio::time::timeout(2 * ANSWER_WITHIN, answers.recv())
        .await
        .expect("the creators keep getting answers")
        .expect("the creators run");
    assert_acceptable(&answer);
    answer
}

/// 201, or 503 in the contract's shape with nothing internal in it; and in time.
fn assert_acceptable(answer: &Answer) {
    assert!(
        answer.took < ANSWER_WITHIN,
        "a request took {:?}: {answer:?}",
        answer.took
    );
    match answer.status {
        201 => {}
        503 => assert_service_unavailable(&answer.body),
        _ => panic!("neither 201 nor 503: {answer:?}"),
    }
}

fn assert_service_unavailable(body: &Value) {
    let error = body["error"].as_object().expect("the error shape");
    assert_eq!(error["code"], "service_unavailable", "{body}");
    let keys: Vec<&str> = error.keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "message"], "{body}");
    let message = error["message"].as_str().expect("a message").to_lowercase();
    for internal in [
        "sqlx",
        "pool",
        "postgres",
        "connect",
        "127.0.0.1",
        "io error",
    ] {
        assert!(!message.contains(internal), "internals leak: {body}");
    }
}

/// `/readyz` of the server at `base` → (status, body, how long it took).
async fn readyz(base: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = reqwest::get(format!("{base}/readyz"))
        .await
        .expect("/readyz answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

fn id_of(answer: &Answer) -> String {
    answer.body["notification_id"]
        .as_str()
        .expect("a created notification has an id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_down_requests_fail_fast_with_503_and_the_service_recovers_by_itself() {
    let mut database = PrivatePostgres::start();
    let app = spawn_app_with(&database.url(), &[]).await;
    let (user, token) = app.new_user();
    assert_eq!(
        readyz(&app.base_url).await.0,
        200,
        "ready before the outage"
    );

    let (answers_to, mut answers) = mpsc::unbounded_channel();
    let (stop_creators, stop) = watch::channel(false);
    let creators: Vec<_> = (0..CREATORS)
        .map(|_| spawn_creator(&app, user, answers_to.clone(), stop.clone()))
        .collect();
    drop(answers_to);
    let mut created = HashSet::new();

    // Load first: creates go through.
    while created.len() < 2 * CREATORS {
        let answer = next_answer(&mut answers).await;
        assert_eq!(answer.status, 201, "before the outage: {answer:?}");
        created.insert(id_of(&answer));
    }

    // A socket open across the outage, of a user nobody writes to meanwhile.
    let (bystander, bystander_token) = app.new_user();
    let mut bystander_socket = app.ws(&bystander_token).await;
    let since = format!("since={}", created.iter().next().expect("an id"));

    // The outage, in the middle of the load.
    tokio::task::block_in_place(|| database.stop());
    let down_since = Instant::now();
    // Readiness fails, and so does a resume (its `since` cannot be looked up,
    // after the upgrade: 1011): the client tries again later with the same
    // `since`.
    let ((ready_status, ready_body, ready_took), resume_attempt) = tokio::join!(
        readyz(&app.base_url),
        app.ws_connect(Connect {
            query_token: Some(&token),
            query: Some(&since),
            ..Connect::default()
        }),
    );
    assert_eq!(ready_status, 503, "/readyz during the outage");
    assert_service_unavailable(&ready_body);
    assert!(ready_took < ANSWER_WITHIN, "/readyz took {ready_took:?}");
    let mut resume_attempt = resume_attempt.expect("the upgrade reads no database");
    let closed = resume_attempt.expect_close().await;
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (1011, "replay failed, reconnect with the same since"),
        "a resume during the outage"
    );
    // The upgrade itself reads no database, with or without `since`.
    let (_, newcomer_token) = app.new_user();
    app.ws(&newcomer_token).await.close().await;
    // Alive all along: an orchestrator must not restart a node for its database.
    let live = app.request(Method::GET, "/healthz", None).await;
    assert_eq!(live.status(), 200, "/healthz during the outage");

    let mut refused = Vec::new();
    while refused.len() < CREATORS {
        let answer = next_answer(&mut answers).await;
        if answer.started < down_since {
            // In flight when the database stopped: either outcome is fine.
            if answer.status == 201 {
                created.insert(id_of(&answer));
            }
            continue;
        }
        assert_eq!(answer.status, 503, "the database is down: {answer:?}");
        refused.push(answer.took);
    }

    // The database comes back; the same process serves again.
    tokio::task::block_in_place(|| database.restart());
    let back_since = Instant::now();
    let mut first_success = None;
    let mut served_again = 0;
    while served_again < 2 * CREATORS {
        assert!(
            back_since.elapsed() < RECOVER_WITHIN,
            "no recovery {RECOVER_WITHIN:?} after the database came back"
        );
        let answer = next_answer(&mut answers).await;
        if answer.status == 201 {
            created.insert(id_of(&answer));
            first_success.get_or_insert_with(|| back_since.elapsed());
            served_again += usize::from(answer.started >= back_since);
        }
    }
    let ready_again = loop {
        let (status, _, _) = readyz(&app.base_url).await;
        if status == 200 {
            break back_since.elapsed();
        }
        assert!(
            back_since.elapsed() < RECOVER_WITHIN,
            "/readyz still {status} {RECOVER_WITHIN:?} after the database came back"
        );
    };

    stop_creators.send_replace(true);
    while let Some(answer) = answers.recv().await {
        assert_acceptable(&answer);
        if answer.status == 201 {
            created.insert(id_of(&answer));
        }
    }
    for creator in creators {
        creator.await.expect("a creator task");
    }

    // The socket opened before the outage still delivers.
    let after = app.create_for(bystander, "after the outage").await;
    assert_eq!(bystander_socket.expect("notification").await["data"], after);

    // Nothing answered 201 was lost on the way.
    for id in &created {
        let (status, body) = app.get(&token, id).await;
        assert_eq!(status, 200, "{id} answered 201 but is gone: {body}");
    }
    let slowest = refused.iter().max().copied().unwrap_or_default();
    eprintln!(
        "outage: {} refused creates, slowest 503 after {slowest:?}, /readyz 503 after \
         {ready_took:?}; database back: first 201 after {first_success:?}, /readyz 200 after \
         {ready_again:?}; {} notifications created",
        refused.len(),
        created.len()
    );
    app.stop().await;
}
