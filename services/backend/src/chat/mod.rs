//! The chat endpoint (`/api/{user_id}/chat`, conversations): placeholder until the chat module lands.

use crate::AppState;

/// The chat routes.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}

/// The chat routes' OpenAPI description, merged into `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
