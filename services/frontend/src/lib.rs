//! The Todo Chatbot's frontend service: one binary that serves the embedded web UI and
//! proxies `/api/*` and `/mcp` to the backend, so the browser only ever talks to one origin.

pub mod assets;
pub mod dashboard;
pub mod error;
pub mod health;
pub mod healthcheck;
pub mod observability;
pub mod proxy;
pub mod routes;
pub use todo_service_kit::shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::Application;

/// Installs ring as the process's TLS provider (the workspace's reqwest is built without one),
/// so an `https://` `BACKEND_URL` works. Calling it again is harmless.
pub fn install_tls_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
