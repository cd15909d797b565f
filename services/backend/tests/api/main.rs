//! Integration tests of the backend: the app on port 0 against fresh real databases
//! (SQLite and PostgreSQL), driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod auth;
mod jwks;
mod lifecycle;
mod operations;
mod outage;
mod repositories;
mod tasks;
mod tokens;
mod validation;
