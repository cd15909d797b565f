//! The LLM agent: any OpenAI-compatible Chat Completions endpoint with tool calling (OpenAI,
//! Ollama, vLLM, Gemini's compatible endpoint). The tools it may call are generated from the
//! tool layer's schemas; the loop is bounded in rounds (`CHAT_MAX_TOOL_STEPS`), each call in
//! time (`OPENAI_TIMEOUT_SECONDS`) and the whole turn in time (below the request deadline).
//!
//! When the model fails (error status, timeout, nonsense) before any tool ran, the built-in
//! engine answers instead, with a notice. After a tool ran it does not: running the message
//! again could repeat what was already done, so the reply reports the calls that were made.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{Value, json};
use todo_config::backend::ChatSettings;

use super::{
    builtin::BuiltinEngine,
    engine::{ChatEngine, Reply, ToolRecorder, Turn},
};
use crate::db::{DbError, conversations::Role};

const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Time kept back from the request deadline so the fallback can still answer.
const FALLBACK_RESERVE: Duration = Duration::from_secs(3);

pub const FALLBACK_NOTICE: &str =
    "(The language model is unavailable right now, so the built-in assistant answered.)";

/// Why the model's part of a turn failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the model endpoint answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the model endpoint cannot be reached: {0}")]
    Unreachable(String),
    #[error("the model's answer is not a Chat Completions response: {0}")]
    Malformed(String),
    #[error("the HTTP client cannot be built: {0}")]
    Client(String),
}

enum Failure {
    Llm(LlmError),
    Db(DbError),
}

impl From<DbError> for Failure {
    fn from(error: DbError) -> Self {
        Self::Db(error)
    }
}

impl From<LlmError> for Failure {
    fn from(error: LlmError) -> Self {
        Self::Llm(error)
    }
}

/// The agent, configured from `ChatSettings`.
#[derive(Debug, Clone)]
pub struct OpenAiEngine {
    settings: ChatSettings,
    turn_budget: Duration,
}

fn http_client() -> Result<&'static reqwest::Client, LlmError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| LlmError::Client(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| client))
}

impl OpenAiEngine {
    /// `request_timeout` is the whole request's deadline; the turn keeps within it.
    pub fn new(settings: &ChatSettings, request_timeout: Duration) -> Self {
        let steps = u32::try_from(settings.max_tool_steps.saturating_add(1)).unwrap_or(u32::MAX);
        let by_steps = settings.openai_timeout.saturating_mul(steps);
        let by_request = request_timeout.saturating_sub(FALLBACK_RESERVE);
        let turn_budget = by_steps.min(by_request).max(Duration::from_secs(1));
        Self {
            settings: settings.clone(),
            turn_budget,
        }
    }

    fn endpoint(&self) -> String {
        let base = self
            .settings
            .openai_base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL);
        format!("{}/chat/completions", base.trim_end_matches('/'))
    }

    fn system_prompt(user_id: &str) -> String {
        format!(
            "You are the Todo Chatbot: you manage the user's to-do list with the tools given. \
             The user's id is \"{user_id}\"; pass it as user_id to every tool. When the user \
             names a task by words rather than by number, call list_tasks first to find its id. \
             If several tasks match, change nothing and ask which one, listing them. Every \
             confirmation names the task's id and title. Keep answers short. If a request is not \
             about tasks, say briefly what you can do: add, list, complete, delete and update \
             tasks."
        )
    }

    async fn complete(
        &self,
        messages: &[Value],
        tools: &Value,
        allow_tools: bool,
        deadline: Instant,
    ) -> Result<AssistantMessage, LlmError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let timeout = self.settings.openai_timeout.min(remaining);
        if timeout.is_zero() {
            return Err(LlmError::Timeout(self.turn_budget));
        }
        let mut body = json!({ "model": self.settings.openai_model, "messages": messages });
        if allow_tools {
            body["tools"] = tools.clone();
            body["tool_choice"] = json!("auto");
        }
        let mut request = http_client()?
            .post(self.endpoint())
            .timeout(timeout)
            .json(&body);
        if let Some(key) = &self.settings.openai_api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| classify(e, timeout))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| classify(e, timeout))?;
        if !status.is_success() {
            let body: String = text.chars().take(300).collect();
            return Err(LlmError::Status {
                status: status.as_u16(),
                body,
            });
        }
        let parsed: Completion =
            serde_json::from_str(&text).map_err(|e| LlmError::Malformed(e.to_string()))?;
        parsed
            .choices
            .into_iter()
            .next()
            .map(|choice| choice.message)
            .ok_or_else(|| LlmError::Malformed("no choices".into()))
    }

    async fn run(
        &self,
        recorder: &mut ToolRecorder<'_>,
        turn: Turn<'_>,
    ) -> Result<String, Failure> {
        let deadline = Instant::now() + self.turn_budget;
        let tools = tool_definitions();
        let mut messages =
            vec![json!({ "role": "system", "content": Self::system_prompt(turn.user_id) })];
        for earlier in turn.history {
            let role = match earlier.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({ "role": role, "content": earlier.content }));
        }
        messages.push(json!({ "role": "user", "content": turn.message }));

        for step in 0..=self.settings.max_tool_steps {
            let allow_tools = step < self.settings.max_tool_steps;
            let answer = self
                .complete(&messages, &tools, allow_tools, deadline)
                .await?;
            if !allow_tools || answer.tool_calls.is_empty() {
                let text = answer.content.unwrap_or_default();
                return Ok(if text.trim().is_empty() {
                    summary(recorder)
                } else {
                    text
                });
            }
            messages.push(json!({
                "role": "assistant",
                "content": answer.content,
                "tool_calls": answer.tool_calls.iter().map(ToolCall::to_json).collect::<Vec<_>>(),
            }));
            for call in &answer.tool_calls {
                let arguments = with_caller(&call.function.arguments, recorder.caller());
                let outcome = recorder.call_json(&call.function.name, arguments).await?;
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": outcome.output.to_string(),
                }));
            }
        }
        Ok(summary(recorder))
    }
}

impl ChatEngine for OpenAiEngine {
    fn name(&self) -> &'static str {
        "openai"
    }

    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, DbError> {
        let mut recorder = ToolRecorder::new(turn.db, turn.user_id);
        match self.run(&mut recorder, turn).await {
            Ok(response) => Ok(Reply {
                response,
                tool_calls: recorder.calls,
                fell_back: false,
            }),
            Err(Failure::Db(error)) => Err(error),
            Err(Failure::Llm(error)) => {
                tracing::warn!(error = %error, tools_run = recorder.calls.len(), "LLM failed; falling back");
                metrics::counter!("chat_llm_fallbacks_total").increment(1);
                if recorder.calls.is_empty() {
                    let mut reply = BuiltinEngine.respond(turn).await?;
                    reply.response = format!("{FALLBACK_NOTICE}\n{}", reply.response);
                    reply.fell_back = true;
                    Ok(reply)
                } else {
                    let response = format!(
                        "The language model stopped answering part-way. {}",
                        summary(&recorder)
                    );
                    Ok(Reply {
                        response,
                        tool_calls: recorder.calls,
                        fell_back: true,
                    })
                }
            }
        }
    }
}

fn classify(error: reqwest::Error, timeout: Duration) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout(timeout)
    } else if error.is_decode() {
        LlmError::Malformed(error.to_string())
    } else {
        LlmError::Unreachable(error.to_string())
    }
}

/// The tools as Chat Completions function definitions, from the tool layer's schemas.
pub fn tool_definitions() -> Value {
    let definitions: Vec<Value> = crate::tools::specs()
        .into_iter()
        .map(|spec| {
            let mut parameters = spec.input_schema;
            parameters.remove("$schema");
            json!({
                "type": "function",
                "function": {
                    "name": spec.name.as_str(),
                    "description": spec.description,
                    "parameters": parameters,
                }
            })
        })
        .collect();
    Value::Array(definitions)
}

/// The model's arguments (a JSON string) with the caller's id filled in when the model left it
/// out. A wrong id is kept, so the tool refuses it visibly.
fn with_caller(arguments: &str, caller: &str) -> Value {
    match serde_json::from_str::<Value>(if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    }) {
        Ok(Value::Object(mut object)) => {
            object.entry("user_id").or_insert_with(|| json!(caller));
            Value::Object(object)
        }
        Ok(other) => other,
        Err(_) => Value::String(arguments.to_owned()),
    }
}

/// A plain account of the tool calls made, for when the model gives no final text.
fn summary(recorder: &ToolRecorder<'_>) -> String {
    if recorder.calls.is_empty() {
        return "I have no answer to that. I can add, list, complete, delete and update tasks."
            .to_owned();
    }
    let lines: Vec<String> = recorder
        .calls
        .iter()
        .map(|call| format!("- {}: {}", call.tool, call.output))
        .collect();
    format!("These tool calls were made:\n{}", lines.join("\n"))
}

#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: AssistantMessage,
}

#[derive(Debug, Deserialize)]
struct AssistantMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Deserialize)]
struct ToolCall {
    id: String,
    function: FunctionCall,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    name: String,
    #[serde(default)]
    arguments: String,
}

impl ToolCall {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "function",
            "function": { "name": self.function.name, "arguments": self.function.arguments },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_id_is_filled_in_only_when_missing() {
        assert_eq!(
            with_caller(r#"{"title":"x"}"#, "u1"),
            json!({"title": "x", "user_id": "u1"})
        );
        assert_eq!(
            with_caller(r#"{"user_id":"u2"}"#, "u1"),
            json!({"user_id": "u2"})
        );
        assert_eq!(with_caller("", "u1"), json!({"user_id": "u1"}));
        assert_eq!(with_caller("not json", "u1"), json!("not json"));
    }

    #[test]
    fn tool_definitions_are_functions_with_object_parameters() {
        let Value::Array(definitions) = tool_definitions() else {
            panic!("not an array")
        };
        assert_eq!(definitions.len(), 5, "five tools");
        for definition in definitions {
            assert_eq!(definition["type"], "function");
            assert_eq!(
                definition["function"]["parameters"]["type"], "object",
                "{definition}"
            );
            assert!(
                definition["function"]["parameters"]
                    .get("$schema")
                    .is_none()
            );
        }
    }

    #[test]
    fn the_turn_budget_stays_below_the_request_deadline() {
        let settings = ChatSettings {
            engine: todo_config::ChatEngineChoice::OpenAi,
            openai_api_key: None,
            openai_base_url: Some("http://127.0.0.1:1".into()),
            openai_model: "m".into(),
            openai_timeout: Duration::from_secs(30),
            history_window: 20,
            max_tool_steps: 5,
        };
        let engine = OpenAiEngine::new(&settings, Duration::from_secs(30));
        assert_eq!(engine.turn_budget, Duration::from_secs(27));
        assert_eq!(engine.endpoint(), "http://127.0.0.1:1/chat/completions");
    }
}
