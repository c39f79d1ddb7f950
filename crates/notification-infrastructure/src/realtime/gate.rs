//! [`HubGate`]: the application's `ConnectionGate`, backed by the hub:
//! an admitted connection holds its registration and runs [`converse`] on
//! the socket it is given.

use std::sync::Arc;

use notification_application::realtime::{
    AdmittedConnection, ClientSocket, ConnectionGate, ConnectionRequest, RealtimeSettings, Refusal,
    Resume, SessionAuthenticator,
};

use crate::realtime::conversation::{converse, Conversation};
use crate::realtime::healer::Healer;
use crate::realtime::replay::Start;

/// Admits connections into a [`Hub`] and serves them with `settings`.
#[derive(Clone)]
pub struct HubGate {
    healer: Healer,
    settings: RealtimeSettings,
    authenticator: Arc<dyn SessionAuthenticator>,
}

impl HubGate {
    /// `authenticator` checks the tokens of in-band `auth` refreshes;
    /// `healer` holds the hub and reads what replays send.
    pub fn new(
        healer: Healer,
        settings: RealtimeSettings,
        authenticator: Arc<dyn SessionAuthenticator>,
    ) -> Self {
        Self {
            healer,
            settings,
            authenticator,
        }
    }
}

impl ConnectionGate for HubGate {
    fn admit(&self, request: ConnectionRequest) -> Result<AdmittedConnection, Refusal> {
        let user_id = request.claims.user_id;
        let registration = self.healer.hub().register(user_id)?;
        let start = match request.resume {
            Some(Resume::AfterSeq(seq)) => Some(Start::After { seq, v1: false }),
            Some(Resume::AfterNotification(id)) => Some(Start::Notification(id)),
            // Live from where the user's stream here stands; when it is not
            // anchored yet, that point is read from storage first.
            None if registration.start().is_some() => None,
            None => Some(Start::Now),
        };
        let conversation = Conversation {
            registration,
            claims: request.claims,
            settings: self.settings,
            authenticator: Arc::clone(&self.authenticator),
            healer: self.healer.clone(),
            start,
        };
        Ok(AdmittedConnection::new(
            user_id,
            move |socket: Box<dyn ClientSocket>| {
                Box::pin(async move {
                    converse(socket, conversation).await;
                })
            },
        ))
    }
}
