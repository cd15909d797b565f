//! The Todo Chatbot's frontend service: one binary that serves the embedded web UI and
//! proxies `/api/*` and `/mcp` to the backend, so the browser only ever talks to one origin.

pub mod assets;
pub mod dashboard;
pub mod error;
pub mod health;
pub mod observability;
pub mod proxy;
pub mod routes;
pub use todo_service_kit::shutdown;
pub mod startup;
pub mod state;

pub use startup::Application;
