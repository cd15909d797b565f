//! The backend's metrics (Prometheus) and the per-request log line.

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use todo_service_kit::metrics::Recorder;

use crate::db::Database;

/// Buckets of `chat_turn_duration_seconds`: an LLM turn takes seconds, so the buckets reach past
/// the chat objective (15 s by default) and the request deadline (30 s); with the HTTP buckets,
/// whose highest is 10 s, the p95 could never be seen above 10 s.
pub const CHAT_TURN_BUCKETS: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0,
];

/// How often the database gauges and histogram upkeep run in the background.
pub const MONITOR_INTERVAL: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder (once per process: see `todo_service_kit::metrics`) and
/// describes the backend's own series.
pub fn install_metrics() -> anyhow::Result<&'static Recorder> {
    let recorder = Recorder::install(
        "backend",
        env!("CARGO_PKG_VERSION"),
        &[("chat_turn_duration_seconds", &CHAT_TURN_BUCKETS)],
    )?;
    metrics::describe_counter!("http_requests_total", "HTTP requests by route and status");
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by route and status"
    );
    metrics::describe_gauge!("http_requests_in_flight", "HTTP requests being served");
    metrics::describe_gauge!("db_up", "1 when the database answers, 0 when it does not");
    Ok(recorder)
}

/// Per-request facts that inner layers learn and the outer log/metrics layer reports.
#[derive(Debug, Clone, Default)]
pub struct RequestContext(Arc<ContextInner>);

#[derive(Debug, Default)]
struct ContextInner {
    route: OnceLock<String>,
    user_id: OnceLock<String>,
}

impl RequestContext {
    /// Records the authenticated user (once; later calls are ignored).
    pub fn set_user_id(&self, user_id: &str) {
        let _ = self.0.user_id.set(user_id.to_owned());
    }

    fn set_route(&self, route: &str) {
        let _ = self.0.route.set(route.to_owned());
    }
}

/// Route layer: notes the matched route template for [`track_requests`].
pub async fn record_matched_route(request: Request, next: Next) -> Response {
    if let (Some(context), Some(path)) = (
        request.extensions().get::<RequestContext>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        context.set_route(path.as_str());
    }
    next.run(request).await
}

/// Outer layer: counts, times and logs every request, one JSON line each.
pub async fn track_requests(mut request: Request, next: Next) -> Response {
    let context = RequestContext::default();
    request.extensions_mut().insert(context.clone());
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let started = Instant::now();
    let in_flight = InFlight::start();
    let response = next.run(request).await;
    drop(in_flight);

    let elapsed = started.elapsed();
    let route = context.0.route.get().map_or("unmatched", String::as_str);
    let status = response.status().as_u16();
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let user_id = context.0.user_id.get().map(String::as_str);
    if status >= 500 {
        tracing::warn!(%request_id, %method, route, status, latency_ms, user_id, "request");
    } else {
        tracing::info!(%request_id, %method, route, status, latency_ms, user_id, "request");
    }
    response
}

/// Counts a request in flight until dropped, so a request whose client went away is not
/// counted forever.
struct InFlight(metrics::Gauge);

impl InFlight {
    fn start() -> Self {
        let gauge = metrics::gauge!("http_requests_in_flight");
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Sets `db_up` and the pool gauges from one quick check.
pub async fn refresh_db_gauges(db: &Database, up: bool) {
    let (size, idle, max) = db.pool_usage();
    metrics::gauge!("db_up").set(if up { 1.0 } else { 0.0 });
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("db_pool_connections", "state" => "active")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("db_pool_max_connections").set(f64::from(max));
}

/// Pings the database with a bounded wait; `Err` carries a short reason for `/readyz`.
pub async fn check_database(db: &Database) -> Result<(), String> {
    let result = match tokio::time::timeout(Duration::from_secs(2), db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{e}")),
        Err(_) => Err("no answer within 2 seconds".to_owned()),
    };
    refresh_db_gauges(db, result.is_ok()).await;
    result
}

/// Refreshes the database gauges and runs histogram upkeep every few seconds, until the
/// returned task is aborted.
pub fn spawn_monitor(db: Database, recorder: &'static Recorder) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(MONITOR_INTERVAL);
        loop {
            ticks.tick().await;
            let _ = check_database(&db).await;
            recorder.run_upkeep();
        }
    })
}
