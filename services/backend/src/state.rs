//! The state every handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use todo_config::BackendConfig;

use crate::{
    auth::{Authenticator, throttle::SignInThrottle},
    db::Database,
    shutdown::Draining,
};

/// Cheap to clone: everything inside is shared.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<BackendConfig>,
    pub db: Database,
    pub auth: Arc<Authenticator>,
    pub sign_in_throttle: Arc<SignInThrottle>,
    pub metrics: PrometheusHandle,
    /// Set at the shutdown signal: `/readyz` answers 503 from then on.
    pub draining: Draining,
}
