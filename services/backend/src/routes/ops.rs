//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, `/api/openapi.json`.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Extension, Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, observability};

/// The operations routes, each with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// The document `/api/openapi.json` serves, built once from the routers when the application
/// is assembled and handed to the handler as a request extension.
#[derive(Clone)]
pub struct ApiDocument(Arc<utoipa::openapi::OpenApi>);

impl ApiDocument {
    pub fn new(document: utoipa::openapi::OpenApi) -> Self {
        Self(Arc::new(document))
    }
}

/// Liveness: answers as long as the process serves HTTP; checks no dependency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Readiness with one entry per check (`database`): `ok` or the reason it failed. `status` is
/// `ready`, `not ready`, or `draining` once a shutdown has begun (then 503 whatever the checks
/// say, while the server still serves every request until its shutdown delay is over).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    status: &'static str,
    checks: BTreeMap<&'static str, String>,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = observability::check_database(&state.db).await;
    let (code, status) = match (state.draining.is_draining(), database.is_ok()) {
        (true, _) => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
        (false, true) => (StatusCode::OK, "ready"),
        (false, false) => (StatusCode::SERVICE_UNAVAILABLE, "not ready"),
    };
    let checks = BTreeMap::from([(
        "database",
        database.err().unwrap_or_else(|| "ok".to_owned()),
    )]);
    (code, Json(Readiness { status, checks }))
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// This document: OpenAPI 3.1, generated from the handlers.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi(Extension(ApiDocument(document)): Extension<ApiDocument>) -> Response {
    Json(document.as_ref()).into_response()
}
