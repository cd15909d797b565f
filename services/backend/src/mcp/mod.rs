//! The MCP server at `/mcp` (Streamable HTTP): the five task tools, for outside agents.
//!
//! Authentication is the REST API's: a bearer token, checked before rmcp sees the request (401
//! JSON without a valid one). The caller's id travels in the request's extensions to the tool
//! handler, which runs the same tool functions as the chat agent on the caller's behalf.
//!
//! The server is stateless (no MCP sessions, JSON responses), so any replica can answer any
//! request. `Host` validation is off: the server sits behind a proxy or ingress under names it
//! cannot know, and every request must carry a bearer token anyway.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::{FromRequestParts, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
        PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
    },
};
use serde_json::Value;

use todo_service_kit::body::read_limited;

use crate::{AppState, auth::AuthUser, db::Database, error::ApiError, tools};

/// The authenticated caller of an MCP request, put in the request's extensions.
#[derive(Debug, Clone)]
struct McpCaller(String);

/// The MCP server handler: lists and runs the task tools.
#[derive(Debug, Clone)]
pub struct TodoMcp {
    db: Database,
}

impl TodoMcp {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The tools as MCP tool definitions, from the tool layer's schemas.
pub fn tool_list() -> Vec<Tool> {
    tools::specs()
        .into_iter()
        .map(|spec| {
            Tool::new(
                spec.name.as_str(),
                spec.description,
                Arc::new(spec.input_schema),
            )
        })
        .collect()
}

fn caller_of(context: &RequestContext<RoleServer>) -> Option<String> {
    let parts = context.extensions.get::<axum::http::request::Parts>()?;
    parts
        .extensions
        .get::<McpCaller>()
        .map(|caller| caller.0.clone())
}

impl ServerHandler for TodoMcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(
                "Manage the authenticated user's to-do list. Pass the user's id as user_id to \
                 every tool; tasks are numbered by task_id (see list_tasks).",
            );
        info.server_info.name = "todo-chatbot".to_owned();
        info.server_info.version = env!("CARGO_PKG_VERSION").to_owned();
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tool_list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller_of(&context).ok_or_else(|| {
            // The middleware always sets it; reaching here means the route was built wrongly.
            ErrorData::internal_error("the request carries no authenticated user", None)
        })?;
        let arguments = request.arguments.map_or(Value::Null, Value::Object);
        let outcome = tools::call_json(&self.db, &caller, &request.name, arguments)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, tool = %request.name, "MCP tool call failed");
                ErrorData::internal_error("the database is unavailable; try again shortly", None)
            })?;
        let content = vec![ContentBlock::text(outcome.output.to_string())];
        let result = if outcome.succeeded {
            CallToolResult::success(content)
        } else {
            CallToolResult::error(content)
        };
        Ok(result.into())
    }
}

/// Refuses requests without a valid bearer token (401, as the REST API), and hands the
/// caller's id to the tool handler. The body is read here, under `BODY_LIMIT_BYTES`, so an
/// oversized one gets the API's JSON 413 after it is drained (see `todo_service_kit::body`),
/// as on every other route.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match AuthUser::from_request_parts(&mut parts, &state).await {
        Ok(user) => {
            parts.extensions.insert(McpCaller(user.user_id));
            let body = match read_limited(body, state.config.body_limit_bytes).await {
                Ok(bytes) => Body::from(bytes),
                Err(refused) => return ApiError::from(refused).into_response(),
            };
            next.run(Request::from_parts(parts, body)).await
        }
        Err(rejection) => rejection.into_response(),
    }
}

/// The MCP route, built with the application state it serves.
pub fn router(state: AppState) -> Router<AppState> {
    let db = state.db.clone();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts()
        .with_max_request_body_bytes(state.config.body_limit_bytes);
    let service: StreamableHttpService<TodoMcp, NeverSessionManager> = StreamableHttpService::new(
        move || Ok(TodoMcp::new(db.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(state, require_token))
}
