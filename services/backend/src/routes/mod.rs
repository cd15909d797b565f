//! HTTP routes, one module per resource, each exporting `router()`.

pub mod auth;
pub mod chat;
pub mod ops;
pub mod tasks;
