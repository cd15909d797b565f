//! The Todo Chatbot's API server as a library: the binary in `main.rs` and the integration
//! tests both build it through [`startup::Application`].

pub mod auth;
pub mod chat;
pub mod db;
pub mod error;
pub mod extract;
pub mod mcp;
pub mod observability;
pub mod openapi;
pub mod routes;
pub use todo_service_kit::shutdown;
pub mod smoke;
pub mod startup;
pub mod state;
pub mod tools;
pub mod whole_number;

pub use error::ApiError;
pub use startup::Application;
pub use state::AppState;
