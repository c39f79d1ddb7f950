//! [`HubConnectionManager`]: the application's `ConnectionManager`, backed by
//! the [`Hub`] and [`run_connection`].

use std::sync::Arc;

use notification_application::realtime::{
    Admission, AdmissionError, AdmittedSlot, ClientSocket, ConnectionFuture, ConnectionManager,
    SessionAuthenticator, SessionClaims,
};
use notification_domain::UserId;

use crate::realtime::hub::{Hub, Registration};
use crate::realtime::pump::run_connection;

/// Admits connections into a [`Hub`] and serves them with its settings.
#[derive(Clone)]
pub struct HubConnectionManager {
    hub: Hub,
    authenticator: Arc<dyn SessionAuthenticator>,
}

impl HubConnectionManager {
    /// `authenticator` checks the tokens of in-band `auth` refreshes.
    pub fn new(hub: Hub, authenticator: Arc<dyn SessionAuthenticator>) -> Self {
        Self { hub, authenticator }
    }
}

impl ConnectionManager for HubConnectionManager {
    fn admit(&self, user_id: UserId) -> Result<Admission, AdmissionError> {
        let registration = self.hub.register(user_id)?;
        Ok(Admission::new(HubSlot {
            registration,
            authenticator: Arc::clone(&self.authenticator),
        }))
    }
}

/// A registered connection waiting for its socket.
struct HubSlot {
    registration: Registration,
    authenticator: Arc<dyn SessionAuthenticator>,
}

impl AdmittedSlot for HubSlot {
    fn user_id(&self) -> UserId {
        self.registration.user_id()
    }

    fn serve(
        self: Box<Self>,
        claims: SessionClaims,
        socket: Box<dyn ClientSocket>,
    ) -> ConnectionFuture {
        let Self {
            registration,
            authenticator,
        } = *self;
        let settings = *registration.settings();
        Box::pin(async move {
            run_connection(socket, registration, claims, settings, authenticator).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::deadlines::unix_now;
    use crate::realtime::fake_socket::connected_pair;
    use notification_application::realtime::{InboundFrame, OutboundFrame, RealtimeSettings};
    use uuid::Uuid;

    struct NoTokens;

    impl SessionAuthenticator for NoTokens {
        fn authenticate(&self, _token: &str) -> Result<SessionClaims, String> {
            Err("invalid".into())
        }
    }

    fn one_per_user() -> (Hub, HubConnectionManager) {
        let hub = Hub::new(&RealtimeSettings {
            max_connections_per_user: 1,
            ..RealtimeSettings::default()
        });
        let manager = HubConnectionManager::new(hub.clone(), Arc::new(NoTokens));
        (hub, manager)
    }

    fn user() -> UserId {
        UserId::from_uuid(Uuid::new_v4())
    }

    #[test]
    fn admitting_reserves_a_slot_and_dropping_it_unused_frees_it() {
        let (hub, manager) = one_per_user();
        let alice = user();
        let admission = manager.admit(alice).unwrap();
        assert_eq!(admission.user_id(), alice);
        assert_eq!(hub.connections_of(alice), 1);
        assert_eq!(
            manager.admit(alice).unwrap_err(),
            AdmissionError::TooManyConnections { limit: 1 }
        );
        drop(admission);
        assert_eq!(hub.connections_of(alice), 0);
        assert!(manager.admit(alice).is_ok());
    }

    #[test]
    fn nothing_is_admitted_after_shutdown() {
        let (hub, manager) = one_per_user();
        hub.shutdown();
        assert_eq!(
            manager.admit(user()).unwrap_err(),
            AdmissionError::ShuttingDown
        );
    }

    #[tokio::test(start_paused = true)]
    async fn serving_delivers_pushes_until_the_client_leaves_then_frees_the_slot() {
        tokio::task::LocalSet::new()
            .run_until(async {
                let (hub, manager) = one_per_user();
                let alice = user();
                let admission = manager.admit(alice).unwrap();
                let claims = SessionClaims {
                    user_id: alice,
                    expires_at: unix_now() + 3600,
                };
                let (socket, mut client) = connected_pair();
                let serving =
                    tokio::task::spawn_local(manager.serve(admission, claims, Box::new(socket)));

                assert_eq!(hub.send_to_user(alice, &"hello".into()), 1);
                assert_eq!(
                    client.next().await,
                    Some(OutboundFrame::Text("hello".into()))
                );
                client.send(InboundFrame::Close);
                serving.await.unwrap();

                assert_eq!(hub.connections_of(alice), 0);
                assert!(manager.admit(alice).is_ok());
            })
            .await;
    }
}
