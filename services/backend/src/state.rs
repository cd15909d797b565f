//! The state every handler shares.

use std::sync::Arc;

use todo_config::BackendConfig;
use todo_service_kit::metrics::Recorder;

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
    pub metrics: &'static Recorder,
    /// Set at the shutdown signal: `/readyz` answers 503 from then on.
    pub draining: Draining,
}
