//! What every chat engine shares: the turn it answers, the reply it gives, and the recorder
//! through which it runs tools (so every call lands in `tool_calls` and in the metrics).

use std::future::Future;

use serde::Serialize;
use serde_json::Value;

use crate::{
    db::{Database, DbError, conversations::Message},
    tools::{self, JsonOutcome, ToolError, ToolName},
};

/// One chat turn to answer.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    pub db: &'a Database,
    /// The authenticated user; every tool runs on their behalf.
    pub user_id: &'a str,
    /// Earlier messages of the conversation, oldest first, bounded by `CHAT_HISTORY_WINDOW`.
    pub history: &'a [Message],
    /// What the user just said.
    pub message: &'a str,
}

/// One tool call of a turn, as the chat response lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolCallRecord {
    /// The tool's name, e.g. `add_task`.
    pub tool: String,
    /// The arguments it was called with.
    #[schema(value_type = Object)]
    pub input: Value,
    /// What it returned (`{"error": "..."}` when it refused).
    #[schema(value_type = Object)]
    pub output: Value,
}

/// An engine's answer to a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub response: String,
    pub tool_calls: Vec<ToolCallRecord>,
    /// True when the LLM failed and the turn was answered without it.
    pub fell_back: bool,
}

/// A way of answering chat turns.
pub trait ChatEngine: Send + Sync {
    /// The engine's name in metrics and logs (`builtin`, `openai`).
    fn name(&self) -> &'static str;

    /// Answers one turn. An `Err` is a fault of the database, which the endpoint reports.
    fn respond(&self, turn: Turn<'_>) -> impl Future<Output = Result<Reply, DbError>> + Send;
}

/// Runs tools for one turn and remembers each call.
#[derive(Debug)]
pub struct ToolRecorder<'a> {
    db: &'a Database,
    caller: &'a str,
    pub calls: Vec<ToolCallRecord>,
}

impl<'a> ToolRecorder<'a> {
    pub fn new(db: &'a Database, caller: &'a str) -> Self {
        Self {
            db,
            caller,
            calls: Vec::new(),
        }
    }

    pub fn caller(&self) -> &'a str {
        self.caller
    }

    fn record(&mut self, tool: &str, input: Value, output: Value, succeeded: bool) {
        let outcome = if succeeded { "ok" } else { "error" };
        metrics::counter!("chat_tool_calls_total", "tool" => tool.to_owned(), "outcome" => outcome)
            .increment(1);
        self.calls.push(ToolCallRecord {
            tool: tool.to_owned(),
            input,
            output,
        });
    }

    /// Runs a tool from JSON (the LLM's way).
    pub async fn call_json(&mut self, name: &str, input: Value) -> Result<JsonOutcome, DbError> {
        let outcome = tools::call_json(self.db, self.caller, name, input.clone()).await?;
        self.record(name, input, outcome.output.clone(), outcome.succeeded);
        Ok(outcome)
    }

    /// Runs a typed tool (the built-in engine's way), recording its JSON input and output.
    pub async fn call<I, O, F, Fut>(
        &mut self,
        tool: ToolName,
        input: I,
        run: F,
    ) -> Result<Result<O, ToolError>, DbError>
    where
        I: Serialize,
        O: Serialize,
        F: FnOnce(&'a Database, &'a str, I) -> Fut,
        Fut: Future<Output = tools::ToolResult<O>>,
    {
        let input_json = serde_json::to_value(&input).unwrap_or(Value::Null);
        let result = run(self.db, self.caller, input).await?;
        let (output, succeeded) = match &result {
            Ok(value) => (serde_json::to_value(value).unwrap_or(Value::Null), true),
            Err(refusal) => (serde_json::json!({ "error": refusal.0 }), false),
        };
        self.record(tool.as_str(), input_json, output, succeeded);
        Ok(result)
    }
}
