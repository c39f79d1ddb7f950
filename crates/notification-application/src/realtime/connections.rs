//! The port the web layer uses to accept a WebSocket: reserve, then serve.

use std::future::Future;
use std::pin::Pin;

use notification_domain::UserId;
use thiserror::Error;

use crate::realtime::session_auth::SessionClaims;
use crate::realtime::socket::ClientSocket;

/// A running connection: resolves when the connection has ended and its slot
/// is freed. Not `Send` (the socket is not): spawn it on the current worker
/// (`actix_web::rt::spawn`).
pub type ConnectionFuture = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AdmissionError {
    /// The user already holds the maximum number of connections (answer 429).
    #[error("this user already holds {limit} connections")]
    TooManyConnections { limit: usize },
    /// The server is shutting down (answer 503).
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// A slot reserved for one connection of a user, before the HTTP upgrade.
///
/// From the moment it exists, messages pushed to the user are queued for it,
/// so anything the web layer sends on the socket before serving it (a `since`
/// replay) is followed by every later push, with none lost in between.
/// Dropping it unused frees the slot.
pub struct Admission {
    slot: Box<dyn AdmittedSlot>,
}

impl Admission {
    /// Wraps a connection manager's reserved slot.
    pub fn new(slot: impl AdmittedSlot + 'static) -> Self {
        Self {
            slot: Box::new(slot),
        }
    }

    /// The user the slot was reserved for.
    pub fn user_id(&self) -> UserId {
        self.slot.user_id()
    }
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

/// What a [`ConnectionManager`] implementation puts inside an [`Admission`].
/// Only adapters implement this; the web layer never calls it directly.
pub trait AdmittedSlot: Send {
    fn user_id(&self) -> UserId;

    /// Runs the connection to its end, then frees the slot.
    fn serve(
        self: Box<Self>,
        claims: SessionClaims,
        socket: Box<dyn ClientSocket>,
    ) -> ConnectionFuture;
}

/// Accepts WebSocket connections into the hub. The web layer's handler:
///
/// 1. authenticates the upgrade request (401 without a valid token);
/// 2. calls [`admit`](Self::admit) (429 or 503 when refused);
/// 3. upgrades, adapts the socket to [`ClientSocket`], optionally sends the
///    `since` replay on it, and spawns [`serve`](Self::serve) on its worker.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ConnectionManager: Send + Sync {
    /// Reserves a slot for one more connection of `user_id`, checking the
    /// per-user limit atomically.
    fn admit(&self, user_id: UserId) -> Result<Admission, AdmissionError>;

    /// Runs the admitted connection until it closes (client close, timeout,
    /// token expiry, overflow, shutdown…). `claims` are those of the token
    /// the upgrade was authenticated with; their `user_id` must be the
    /// admitted user's, or the connection is closed with 1008 at once.
    fn serve(
        &self,
        admission: Admission,
        claims: SessionClaims,
        socket: Box<dyn ClientSocket>,
    ) -> ConnectionFuture {
        admission.slot.serve(claims, socket)
    }
}
