//! The chat endpoint (`POST /api/{user_id}/chat`) and the conversation history a UI shows
//! (`GET /api/{user_id}/conversations`, `…/conversations/{id}/messages`).
//!
//! Stateless: each turn loads the conversation's recent history from the database, stores the
//! user's message, lets the configured engine (`crate::chat`) run its tools, stores the reply
//! and returns it, so conversations survive restarts and work across replicas.

use std::time::Instant;

use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use todo_config::ChatEngineChoice;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Authorized,
    chat::{ChatEngine, ToolCallRecord, Turn, builtin, openai},
    db::conversations::{self, Conversation, Message, Role},
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath},
};

/// The longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Messages of history the built-in engine reads: enough to find the last reply ("mark it done").
const BUILTIN_HISTORY: usize = 2;

/// A user message runs no tools.
const NO_TOOLS: [ToolCallRecord; 0] = [];

/// The chat and conversation routes, each with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chat))
        .routes(routes!(list_conversations))
        .routes(routes!(list_messages))
}

/// Body of `POST /api/{user_id}/chat`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChatRequest {
    /// What the user says: 1–4000 characters, not only blanks.
    #[schema(
        max_length = 4000,
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    pub message: String,
    /// The conversation to continue; absent to start a new one.
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub conversation_id: Option<i64>,
}

/// The reply to a chat turn.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatResponse {
    pub conversation_id: i64,
    /// The assistant's answer.
    pub response: String,
    /// Every tool the turn ran, in order, with its input and output.
    pub tool_calls: Vec<ToolCallRecord>,
}

/// The `{conversation_id}` of a conversation route.
#[derive(Debug, Deserialize)]
pub struct ConversationPath {
    pub conversation_id: i64,
}

fn checked_message(message: &str) -> Result<&str, ApiError> {
    if message.trim().is_empty() {
        return Err(ApiError::Validation(
            "message must not be empty; say what to do, e.g. \"Show me all my tasks\"".into(),
        ));
    }
    let chars = message.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::Validation(format!(
            "message is {chars} characters long; the limit is {MAX_MESSAGE_CHARS}"
        )));
    }
    Ok(message.trim())
}

/// One chat turn: the engine reads the message, runs tools, and answers.
#[utoipa::path(post, path = "/api/{user_id}/chat", tag = "chat",
    params(("user_id" = String, Path, description = "the token's user")),
    request_body = ChatRequest,
    responses((status = 200, body = ChatResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "unknown conversation"),
        (status = 422, body = ErrorBody, description = "empty or over-long message")),
    security(("bearer" = [])))]
pub async fn chat(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Json<ChatResponse>, ApiError> {
    let message = checked_message(&request.message)?;
    let user_id = auth.user_id();
    let db = &state.db;
    let conversation = match request.conversation_id {
        Some(id) => conversations::get(db, user_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("conversation {id}")))?,
        None => conversations::create(db, user_id).await?,
    };
    let engine = state.config.chat.resolved_engine();
    // The LLM gets the configured window; the built-in engine only looks at the last reply.
    let window = match engine {
        ChatEngineChoice::OpenAi => state.config.chat.history_window,
        ChatEngineChoice::Builtin | ChatEngineChoice::Auto => BUILTIN_HISTORY,
    };
    let window = u32::try_from(window).unwrap_or(u32::MAX);
    let history = conversations::recent_messages(db, user_id, conversation.id, window).await?;
    conversations::append_message(db, user_id, conversation.id, Role::User, message, &NO_TOOLS)
        .await?;

    let turn = Turn {
        db,
        user_id,
        history: &history,
        message,
    };
    let engine_name = match engine {
        ChatEngineChoice::OpenAi => "openai",
        ChatEngineChoice::Builtin | ChatEngineChoice::Auto => "builtin",
    };
    let started = Instant::now();
    let result = match engine {
        ChatEngineChoice::OpenAi => {
            openai::OpenAiEngine::new(&state.config.chat, state.config.request_timeout)
                .respond(turn)
                .await
        }
        ChatEngineChoice::Builtin | ChatEngineChoice::Auto => {
            builtin::BuiltinEngine.respond(turn).await
        }
    };
    metrics::histogram!("chat_turn_duration_seconds", "engine" => engine_name)
        .record(started.elapsed().as_secs_f64());
    let outcome = match &result {
        Ok(reply) if reply.fell_back => "fallback",
        Ok(_) => "ok",
        Err(_) => "error",
    };
    metrics::counter!("chat_turns_total", "engine" => engine_name, "outcome" => outcome)
        .increment(1);
    let reply = result?;

    conversations::append_message(
        db,
        user_id,
        conversation.id,
        Role::Assistant,
        &reply.response,
        &reply.tool_calls,
    )
    .await?;
    Ok(Json(ChatResponse {
        conversation_id: conversation.id,
        response: reply.response,
        tool_calls: reply.tool_calls,
    }))
}

/// The user's conversations, most recently active first.
#[utoipa::path(get, path = "/api/{user_id}/conversations", tag = "chat",
    params(("user_id" = String, Path, description = "the token's user")),
    responses((status = 200, body = [Conversation]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_conversations(
    State(state): State<AppState>,
    auth: Authorized,
) -> Result<Json<Vec<Conversation>>, ApiError> {
    Ok(Json(conversations::list(&state.db, auth.user_id()).await?))
}

/// Every message of one of the user's conversations, oldest first.
#[utoipa::path(get, path = "/api/{user_id}/conversations/{conversation_id}/messages", tag = "chat",
    params(("user_id" = String, Path, description = "the token's user"),
        ("conversation_id" = i64, Path, description = "the conversation")),
    responses((status = 200, body = [Message]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "an id that is not a 64-bit integer")),
    security(("bearer" = [])))]
pub async fn list_messages(
    State(state): State<AppState>,
    auth: Authorized,
    ApiPath(path): ApiPath<ConversationPath>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let user_id = auth.user_id();
    let id = path.conversation_id;
    conversations::get(&state.db, user_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("conversation {id}")))?;
    Ok(Json(conversations::messages(&state.db, user_id, id).await?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn conversation_id(json: &str) -> Result<Option<i64>, serde_json::Error> {
        serde_json::from_str::<ChatRequest>(json).map(|r| r.conversation_id)
    }

    #[test]
    fn a_conversation_id_is_any_whole_number_the_schema_allows() {
        let with =
            |id: &str| conversation_id(&format!(r#"{{"message":"hi","conversation_id":{id}}}"#));
        assert_eq!(with("5809").unwrap(), Some(5809));
        assert_eq!(with("5809.0").unwrap(), Some(5809));
        assert_eq!(with("-3.0e2").unwrap(), Some(-300));
        assert_eq!(with("null").unwrap(), None);
        assert_eq!(conversation_id(r#"{"message":"hi"}"#).unwrap(), None);
        for refused in ["5809.5", "1e19", "18446744073709551615", "\"7\"", "true"] {
            assert!(with(refused).is_err(), "{refused} must be refused");
        }
    }
}
