//! The chat agent: an engine reads a user's message with the conversation's recent history,
//! runs the task tools, and answers. [`builtin`] understands a fixed grammar offline;
//! [`openai`] asks an OpenAI-compatible model. The HTTP endpoints that store the turns and
//! serve the history are in `routes/chat.rs`.

pub mod builtin;
pub mod engine;
pub mod openai;
mod replies;

pub use engine::{ChatEngine, Reply, ToolCallRecord, Turn};
