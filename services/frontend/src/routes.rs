//! The frontend's routes: the UI, the operations endpoints and the proxied API.

use axum::{
    Router,
    extract::Request,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get},
};

use crate::{
    assets, dashboard, error::FrontendError, health, observability, proxy, state::AppState,
};

pub fn router(state: AppState) -> Router {
    let operations = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/ops/dashboard", get(dashboard::dashboard))
        .route_layer(middleware::from_fn(unproxied_only));
    Router::new()
        .route("/", get(assets::index))
        .route("/index.html", get(assets::index))
        .route("/assets/{version}/{name}", get(assets::asset))
        .merge(operations)
        .route("/api/{*path}", any(proxy::forward))
        .route("/mcp", any(proxy::forward))
        .route("/mcp/{*path}", any(proxy::forward))
        .fallback(not_found)
        .layer(middleware::from_fn(observability::track_requests))
        .layer(middleware::from_fn_with_state(
            state.draining.clone(),
            crate::shutdown::close_connections_while_draining,
        ))
        .with_state(state)
}

/// The operations endpoints are for the kubelet's probes and Prometheus, which call the pod
/// directly. A request that came through a reverse proxy (an ingress controller, a load
/// balancer: they all add `X-Forwarded-For`) gets the same 404 as an unknown path, so the
/// public entry point does not publish the metrics and probes.
async fn unproxied_only(request: Request, next: Next) -> Response {
    if request.headers().contains_key("x-forwarded-for") {
        return not_found(request.uri().clone()).await;
    }
    next.run(request).await
}

async fn not_found(uri: axum::http::Uri) -> Response {
    FrontendError::NotFound(uri.path().to_owned()).into_response()
}
