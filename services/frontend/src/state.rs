//! What every handler shares: the configuration, the HTTP clients to the backend, whether
//! the server is draining, and the metrics recorder.

use std::sync::Arc;

use todo_config::FrontendConfig;
use todo_service_kit::metrics::Recorder;

use crate::shutdown::Draining;

/// Shared by all handlers through `with_state`; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<FrontendConfig>,
    /// Pooled keep-alive connections to the backend.
    pub client: reqwest::Client,
    /// A new connection for every call: the one retry of a call whose pooled connection broke.
    pub fresh_client: reqwest::Client,
    /// Set at the shutdown signal: `/readyz` answers 503 from then on.
    pub draining: Draining,
    /// The process's Prometheus recorder, rendered by `/metrics`.
    pub metrics: &'static Recorder,
}
