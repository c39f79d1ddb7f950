//! [`ConnectionGate`]: the one port the web layer uses to hand a WebSocket
//! over. It admits a connection (or refuses it, typed) before the HTTP
//! upgrade; the admitted connection then runs its whole conversation on the
//! upgraded socket.

use std::future::Future;
use std::pin::Pin;

use notification_domain::{NotificationId, UserId};
use thiserror::Error;

use crate::realtime::session_auth::SessionClaims;
use crate::realtime::socket::ClientSocket;

/// A running conversation: resolves when the connection has ended and its
/// slot is freed. Not `Send` (the socket is not): spawn it on the current
/// worker (`actix_web::rt::spawn`).
pub type ConnectionFuture = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The user already holds the maximum number of connections (answer 429).
    #[error("this user already holds {limit} connections")]
    TooManyConnections { limit: usize },
    /// The server is shutting down (answer 503).
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// What the web layer asks for once the upgrade request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// The claims of the token the upgrade was authenticated with.
    pub claims: SessionClaims,
    /// `?since_seq=` or `?since=`: replay what the user missed first. Only
    /// parsed by the web layer; it is looked up after the upgrade.
    pub resume: Option<Resume>,
}

/// Where a reconnecting client resumes (contract §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// `?since_seq=n`: every change of the user after `n`.
    AfterSeq(u64),
    /// `?since=<id>`: every change after the one that created this
    /// notification (`unknown_since` when the log does not know it).
    AfterNotification(NotificationId),
}

/// A connection holding its slot, waiting for its socket.
///
/// From the moment it exists, messages pushed to the user are queued for it,
/// so nothing created between the admission and the end of a `since` replay
/// is lost. Dropping it unused frees the slot.
pub struct AdmittedConnection {
    user_id: UserId,
    converse: Box<dyn FnOnce(Box<dyn ClientSocket>) -> ConnectionFuture + Send>,
}

impl AdmittedConnection {
    /// For gates: `converse` runs the conversation on the upgraded socket and
    /// owns the slot (dropping it unused frees the slot).
    pub fn new(
        user_id: UserId,
        converse: impl FnOnce(Box<dyn ClientSocket>) -> ConnectionFuture + Send + 'static,
    ) -> Self {
        Self {
            user_id,
            converse: Box::new(converse),
        }
    }

    /// The user the slot was taken for.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// Runs the whole conversation (`since` replay included) on `socket`
    /// until it closes, then frees the slot.
    pub fn serve(self, socket: Box<dyn ClientSocket>) -> ConnectionFuture {
        (self.converse)(socket)
    }
}

impl std::fmt::Debug for AdmittedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmittedConnection")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Admits WebSocket connections. The web layer checks the origin, the
/// upgrade headers and the token, parses `since_seq` / `since`, calls [`admit`](Self::admit)
/// (429 or 503 when refused), upgrades, and spawns
/// [`AdmittedConnection::serve`] on its worker.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ConnectionGate: Send + Sync {
    /// Takes a slot for one more connection of the request's user, checking
    /// the per-user limit atomically. A connection that resumes from nothing
    /// may first read where the user's changes stand (so that it misses none
    /// made after its upgrade); nothing else is read.
    async fn admit(&self, request: ConnectionRequest) -> Result<AdmittedConnection, Refusal>;
}
