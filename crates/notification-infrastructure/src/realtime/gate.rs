//! [`HubGate`]: the application's `ConnectionGate`, backed by the [`Hub`]:
//! an admitted connection holds its registration and runs [`converse`] on
//! the socket it is given.

use std::sync::Arc;

use notification_application::realtime::{
    AdmittedConnection, ClientSocket, ConnectionGate, ConnectionRequest, RealtimeSettings, Refusal,
    SessionAuthenticator,
};
use notification_application::NotificationService;

use crate::realtime::conversation::{converse, Conversation};
use crate::realtime::hub::Hub;
use crate::realtime::replay::Replay;

/// Admits connections into a [`Hub`] and serves them with `settings`.
#[derive(Clone)]
pub struct HubGate {
    hub: Hub,
    settings: RealtimeSettings,
    authenticator: Arc<dyn SessionAuthenticator>,
    service: NotificationService,
}

impl HubGate {
    /// `authenticator` checks the tokens of in-band `auth` refreshes;
    /// `service` reads what a `since` replay sends.
    pub fn new(
        hub: Hub,
        settings: RealtimeSettings,
        authenticator: Arc<dyn SessionAuthenticator>,
        service: NotificationService,
    ) -> Self {
        Self {
            hub,
            settings,
            authenticator,
            service,
        }
    }
}

impl ConnectionGate for HubGate {
    fn admit(&self, request: ConnectionRequest) -> Result<AdmittedConnection, Refusal> {
        let user_id = request.claims.user_id;
        let registration = self.hub.register(user_id)?;
        let conversation = Conversation {
            registration,
            claims: request.claims,
            settings: self.settings,
            authenticator: Arc::clone(&self.authenticator),
            replay: request
                .since
                .map(|since| Replay::new(self.service.clone(), user_id, since)),
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
