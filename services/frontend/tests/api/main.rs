//! Integration tests of the frontend: it runs on port 0 in front of an upstream started in the
//! test (a small axum app for streaming, timeout and header cases).

#![allow(clippy::unwrap_used)]

mod assets;
mod binary;
mod dashboard;
mod health;
mod healthcheck;
mod helpers;
mod proxy;
mod retry;
mod shutdown;
