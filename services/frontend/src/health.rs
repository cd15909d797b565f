//! Operations endpoints: `/healthz` (alive), `/readyz` (able to serve, and not draining; the
//! backend's state is reported but does not count) and `/metrics` (Prometheus text).

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::state::AppState;

/// How long readiness waits for the backend: probes must answer quickly, whatever happens.
pub const BACKEND_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 while the frontend serves, 503 once it is draining. The UI is static and the backend has
/// its own readiness, so a backend or database outage must not take the UI out of the Service:
/// the backend's state goes in the body (`backend`: `ok` or what is wrong) and nowhere else.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let backend = match check_backend(&state).await {
        Ok(()) => "ok".to_owned(),
        Err(problem) => problem,
    };
    let (code, status) = if state.draining.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else {
        (StatusCode::OK, "ready")
    };
    let body = json!({ "status": status, "checks": {}, "backend": backend });
    (code, Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Asks the backend's `/readyz`, within [`BACKEND_CHECK_TIMEOUT`], and records `backend_up`
/// ("up" means it answers: a backend whose database is down is up but not ready).
pub async fn check_backend(state: &AppState) -> Result<(), String> {
    let url = format!("{}/readyz", state.config.backend_url);
    let outcome = state
        .client
        .get(&url)
        .timeout(BACKEND_CHECK_TIMEOUT)
        .send()
        .await;
    metrics::gauge!("backend_up").set(if outcome.is_ok() { 1.0 } else { 0.0 });
    match outcome {
        Ok(answer) if answer.status().is_success() => Ok(()),
        Ok(answer) => Err(format!(
            "the backend answered {} to /readyz",
            answer.status().as_u16()
        )),
        Err(error) if error.is_timeout() => Err(format!(
            "no answer from {url} within {} s",
            BACKEND_CHECK_TIMEOUT.as_secs()
        )),
        Err(_) => Err(format!("unreachable at {url}")),
    }
}

/// Keeps `backend_up` current even when nobody calls `/readyz` (e.g. under plain Docker).
pub fn spawn_backend_probe(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(problem) = check_backend(&state).await {
                tracing::debug!(%problem, "backend probe");
            }
        }
    })
}
