//! A node whose subscribers fall behind holds a bounded backlog: what does not
//! fit is dropped, counted and announced as a gap, never queued without end.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notification_domain::{DomainEvent, EventPublisher, EventSubscriber};
use notification_infrastructure::events::RedisBusConfig;
use tokio::sync::Semaphore;

use crate::support::{event, eventually, node, recorder, unique_config, Heard, Recorder};

/// A subscriber that is stuck in `handle` until the gate opens, then records.
struct Stuck {
    gate: Semaphore,
    recorder: Arc<Recorder>,
}

#[async_trait]
impl EventSubscriber for Stuck {
    async fn handle(&self, event: &DomainEvent) {
        if let Ok(permit) = self.gate.acquire().await {
            permit.forget();
        }
        self.recorder.handle(event).await;
    }

    async fn on_gap(&self) {
        self.recorder.on_gap().await;
    }
}

#[tokio::test]
async fn a_full_receive_buffer_drops_counts_and_announces_a_gap() {
    const BUFFER: usize = 4;
    const SENT: u64 = 20;
    let config = RedisBusConfig {
        receive_buffer: BUFFER,
        ..unique_config()
    };
    let bus = node(&config).await;
    let (recorder, mut heard) = recorder();
    let stuck = Arc::new(Stuck {
        gate: Semaphore::new(0),
        recorder,
    });
    bus.subscribe(stuck.clone());

    for tag in 1..=SENT {
        bus.publish(event(tag)).await.unwrap();
    }
    // At most one event is in the stuck subscriber and BUFFER wait for it.
    let at_least_dropped = SENT - 1 - BUFFER as u64;
    eventually("the overflow is counted", Duration::from_secs(10), || {
        let dropped = bus.events_dropped();
        async move { dropped >= at_least_dropped }
    })
    .await;
    let dropped = bus.events_dropped();
    assert!(dropped <= SENT - BUFFER as u64, "{dropped} dropped");

    stuck.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    let kept = SENT - dropped;
    let mut events = 0;
    let mut gaps = 0;
    while events < kept {
        match heard.next_heard("the node").await {
            Heard::Event(_) => events += 1,
            Heard::Gap => {
                assert!(events > 0 || gaps == 0, "one gap, after the first event");
                gaps += 1;
            }
        }
    }
    assert_eq!(gaps, 1, "the loss is announced once");

    // Afterwards events flow again, with no further gap.
    let after = event(SENT + 1);
    bus.publish(after.clone()).await.unwrap();
    heard.expect("the node", &[&after]).await;
    assert_eq!(bus.events_dropped(), dropped);
}
