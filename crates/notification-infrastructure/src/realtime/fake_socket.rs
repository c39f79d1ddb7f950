//! An in-memory [`ClientSocket`] for tests: the test plays the client through
//! a [`FakeClient`] connected by channels.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use notification_application::realtime::{ClientSocket, InboundFrame, OutboundFrame, SocketError};
use serde_json::Value;
use tokio::sync::mpsc;

pub(crate) struct FakeSocket {
    inbound: mpsc::UnboundedReceiver<Result<InboundFrame, SocketError>>,
    outbound: mpsc::UnboundedSender<OutboundFrame>,
    writes_stalled: Arc<AtomicBool>,
}

pub(crate) struct FakeClient {
    to_server: Option<mpsc::UnboundedSender<Result<InboundFrame, SocketError>>>,
    from_server: mpsc::UnboundedReceiver<OutboundFrame>,
    writes_stalled: Arc<AtomicBool>,
}

pub(crate) fn connected_pair() -> (FakeSocket, FakeClient) {
    let (to_server, inbound) = mpsc::unbounded_channel();
    let (outbound, from_server) = mpsc::unbounded_channel();
    let writes_stalled = Arc::new(AtomicBool::new(false));
    (
        FakeSocket {
            inbound,
            outbound,
            writes_stalled: Arc::clone(&writes_stalled),
        },
        FakeClient {
            to_server: Some(to_server),
            from_server,
            writes_stalled,
        },
    )
}

#[async_trait(?Send)]
impl ClientSocket for FakeSocket {
    async fn recv(&mut self) -> Option<Result<InboundFrame, SocketError>> {
        self.inbound.recv().await
    }

    async fn send(&mut self, frame: OutboundFrame) -> Result<(), SocketError> {
        if self.writes_stalled.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.outbound.send(frame).map_err(|_| SocketError::Closed)
    }
}

impl FakeClient {
    pub(crate) fn send(&self, frame: InboundFrame) {
        self.send_result(Ok(frame));
    }

    pub(crate) fn send_text(&self, text: impl Into<String>) {
        self.send(InboundFrame::Text(text.into()));
    }

    pub(crate) fn send_result(&self, frame: Result<InboundFrame, SocketError>) {
        if let Some(sender) = &self.to_server {
            // The server may already have gone; the test then sees it close.
            let _ = sender.send(frame);
        }
    }

    /// Ends the client's stream without a Close frame.
    pub(crate) fn hang_up(&mut self) {
        self.to_server = None;
    }

    /// Every later write of the server blocks forever.
    pub(crate) fn stall_writes(&self) {
        self.writes_stalled.store(true, Ordering::SeqCst);
    }

    /// The next frame from the server; `None` once the server dropped the socket.
    pub(crate) async fn next(&mut self) -> Option<OutboundFrame> {
        self.from_server.recv().await
    }

    /// The next frame, which must be a JSON text message.
    pub(crate) async fn next_json(&mut self) -> Value {
        match self.next().await {
            Some(OutboundFrame::Text(text)) => {
                serde_json::from_str(text.as_str()).expect("server sent invalid JSON")
            }
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// The next frame, which must be a Close frame; returns code and reason.
    pub(crate) async fn next_close(&mut self) -> (u16, String) {
        match self.next().await {
            Some(OutboundFrame::Close { code, reason }) => (code, reason),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
