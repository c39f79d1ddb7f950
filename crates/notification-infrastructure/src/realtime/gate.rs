//! [`HubGate`]: the application's `ConnectionGate`, backed by the hub:
//! an admitted connection holds its registration and runs [`converse`] on
//! the socket it is given.

use std::sync::Arc;

use futures_util::FutureExt;

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

#[async_trait::async_trait]
impl ConnectionGate for HubGate {
    async fn admit(&self, request: ConnectionRequest) -> Result<AdmittedConnection, Refusal> {
        let user_id = request.claims.user_id;
        let hub = self.healer.hub();
        // A connection without a resume point starts "now": at its upgrade.
        // When the user's stream here is anchored, its registration says
        // where that is. Otherwise the user's position is read *before* the
        // registration and anchors the stream: a position read afterwards
        // could already include a change made after the upgrade, which the
        // connection would then never get. (A change whose event arrived
        // between the read and the registration is healed like any lost
        // publish: at the next change or the next periodic check.)
        let before = match request.resume {
            None if !hub.is_anchored(user_id) => {
                self.healer.service().unread_count(user_id).await.ok()
            }
            _ => None,
        };
        let registration = hub.register(user_id)?;
        let (start, position) = match (request.resume, registration.start(), before) {
            (Some(Resume::AfterSeq(seq)), _, _) => (Some(Start::After { seq, v1: false }), None),
            (Some(Resume::AfterNotification(id)), _, _) => (Some(Start::Notification(id)), None),
            // Live from where the user's stream here stood at registration.
            (None, Some(head), _) => (None, Some(head)),
            (None, None, Some(before)) => {
                let handed = hub.anchor(user_id, before.seq);
                self.healer.heal(user_id, handed);
                (None, Some(before.seq))
            }
            // Storage did not answer: the conversation reads the starting
            // point itself (and closes with 1011 if it cannot either).
            (None, None, None) => (Some(Start::Now), None),
        };
        let conversation = Conversation {
            registration,
            claims: request.claims,
            settings: self.settings,
            authenticator: Arc::clone(&self.authenticator),
            healer: self.healer.clone(),
            start,
            position,
        };
        Ok(AdmittedConnection::new(
            user_id,
            move |socket: Box<dyn ClientSocket>| {
                // `map`, not an `async` block around `converse`: a block
                // would hold its captures beside the future they move into.
                Box::pin(converse(socket, conversation).map(|_reason| ()))
            },
        ))
    }
}
