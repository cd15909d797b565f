//! What every handler shares: the configuration and the one HTTP client to the backend.

use std::sync::Arc;

use todo_config::FrontendConfig;

/// Shared by all handlers through `with_state`; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<FrontendConfig>,
    /// Pooled keep-alive connections to the backend.
    pub client: reqwest::Client,
}
