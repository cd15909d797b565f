//! The chat endpoint over HTTP against real databases: the built-in engine (contract examples
//! checked by their effect on the task list, many phrasings, ambiguity, refusals), the
//! conversation endpoints, restart persistence, and the OpenAI-compatible agent against a fake
//! Chat Completions server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat {
    pub mod builtin;
    pub mod conversations;
    pub mod fuzz;
    pub mod openai;
    pub mod support;
}
