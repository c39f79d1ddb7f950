//! Encoding each server → client message to its JSON text, as the server
//! does once per push (the same bytes then go to every socket of the user).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use notification_protocol::{
    ErrorCode, NotificationResource, NotificationStatus, NotificationType, ServerMessage,
    UpdateData, UpdateType,
};
use serde_json::{json, Map, Value};
use time::macros::datetime;
use uuid::Uuid;

const NOTIFICATION_ID: Uuid = Uuid::from_u128(0x0192f5c8_7d3e_7c4a_9a8e_1f2b3c4d5e6f);
const USER_ID: Uuid = Uuid::from_u128(0x123e4567_e89b_12d3_a456_426614174001);

fn metadata() -> Map<String, Value> {
    match json!({"transaction_id": "tx-8841", "amount": 4200, "currency": "BRL"}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// One message of each kind the server sends, named for the report.
fn messages() -> Vec<(&'static str, ServerMessage)> {
    let at = datetime!(2025-12-31 18:05 UTC);
    let update = |update_type, data| ServerMessage::NotificationUpdate {
        notification_id: Some(NOTIFICATION_ID),
        update_type,
        data,
        unread_count: 3,
        seq: 41,
    };
    vec![
        (
            "notification",
            ServerMessage::Notification {
                data: NotificationResource {
                    notification_id: NOTIFICATION_ID,
                    user_id: USER_ID,
                    title: "Nova transação".to_owned(),
                    message: "Uma nova transação foi criada".to_owned(),
                    notification_type: NotificationType::Success,
                    status: NotificationStatus::Unread,
                    metadata: metadata(),
                    created_at: datetime!(2025-12-31 18:00 UTC),
                    read_at: None,
                    archived_at: None,
                },
                unread_count: 4,
                seq: 41,
            },
        ),
        (
            "update_read",
            update(
                UpdateType::Read,
                UpdateData {
                    status: Some(NotificationStatus::Read),
                    read_at: Some(at),
                    ..UpdateData::default()
                },
            ),
        ),
        (
            "update_archive",
            update(
                UpdateType::Archive,
                UpdateData {
                    status: Some(NotificationStatus::Archived),
                    archived_at: Some(at),
                    ..UpdateData::default()
                },
            ),
        ),
        (
            "update_delete",
            update(UpdateType::Delete, UpdateData::default()),
        ),
        (
            "update_read_all",
            ServerMessage::NotificationUpdate {
                notification_id: None,
                update_type: UpdateType::ReadAll,
                data: UpdateData {
                    status: Some(NotificationStatus::Read),
                    read_at: Some(at),
                    updated: Some(12),
                    ..UpdateData::default()
                },
                unread_count: 0,
                seq: 41,
            },
        ),
        (
            "pong",
            ServerMessage::Pong {
                timestamp: 1_704_048_000,
            },
        ),
        (
            "auth_ok",
            ServerMessage::AuthOk {
                expires_at: 1_704_051_600,
            },
        ),
        (
            "error",
            ServerMessage::error(ErrorCode::InvalidMessage, "unknown message type `dance`"),
        ),
    ]
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (name, message) in messages() {
        let size = serde_json::to_string(&message).map_or(0, |text| text.len());
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| {
            b.iter(|| serde_json::to_string(black_box(&message)));
        });
    }
    group.finish();
}

fn quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = quick();
    targets = encode
}
criterion_main!(benches);
