//! The frontend's routes: the UI, the operations endpoints and the proxied API.

use axum::{
    Router, middleware,
    response::{IntoResponse, Response},
    routing::{any, get},
};

use crate::{assets, error::FrontendError, health, observability, proxy, state::AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/index.html", get(assets::index))
        .route("/assets/{version}/{name}", get(assets::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/{*path}", any(proxy::forward))
        .route("/mcp", any(proxy::forward))
        .route("/mcp/{*path}", any(proxy::forward))
        .fallback(not_found)
        .layer(middleware::from_fn(observability::track_requests))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    FrontendError::NotFound(uri.path().to_owned()).into_response()
}
