//! Test helpers for the Todo Chatbot's services: a real PostgreSQL (throwaway or given by
//! `TEST_DATABASE_URL`) and the backend spawned on port 0 against a fresh database.
//!
//! A test helper crate: failures here are test failures, so `expect` with a message is the
//! right way to report them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod postgres;

pub use app::{
    Backend, TEST_SECRET, TestApp, TestUser, base64_url, mint_token_with, unix_now, unsigned_token,
};
pub use jsonwebtoken::Algorithm;
pub use postgres::{PrivateServer, TestPostgres};
