//! [`ApiState`]: what every handler can reach.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use notification_application::realtime::ConnectionGate;
use notification_application::NotificationService;

use crate::auth::TokenVerifier;
use crate::websocket::WebSocketOptions;

/// Shared state of the HTTP app. Cheap to clone (every field is a handle), so
/// the binary builds it once and calls `app(state.clone())` per worker;
/// handlers read it from `web::Data<ApiState>`.
#[derive(Clone)]
pub struct ApiState {
    pub service: NotificationService,
    pub tokens: Arc<TokenVerifier>,
    /// Renders `GET /metrics`; `None` when no recorder is installed (the route
    /// then answers 404).
    pub metrics: Option<PrometheusHandle>,
    /// The live-connection side of the hub: admits WebSockets, whose
    /// conversations it then runs.
    pub connections: Arc<dyn ConnectionGate>,
    pub websocket: WebSocketOptions,
}
