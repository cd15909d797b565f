//! The MCP server at `/mcp` (Streamable HTTP): placeholder until the MCP module lands.

use crate::AppState;

/// The MCP routes, built with the application state they serve.
pub fn router(_state: AppState) -> axum::Router<AppState> {
    axum::Router::new()
}
