//! One middleware for every request: the `x-request-id` (taken or created, and returned), the
//! HTTP metrics of the interface sheet, and one JSON log line; and the recorder behind
//! `/metrics`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use todo_service_kit::metrics::{InstallError, Recorder};

/// Installs the Prometheus recorder (once per process: see `todo_service_kit::metrics`) and
/// describes the frontend's own series.
pub fn install_metrics() -> Result<&'static Recorder, InstallError> {
    let recorder = Recorder::install("frontend", env!("CARGO_PKG_VERSION"), &[])?;
    metrics::describe_gauge!(
        "backend_up",
        "1 while the backend answers, 0 when it cannot be reached"
    );
    metrics::describe_counter!(
        "proxy_upstream_errors_total",
        "proxied calls that got no answer from the backend, by kind (connect, timeout, other)"
    );
    Ok(recorder)
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// Wraps every route (installed with `Router::layer`, so the matched route is known).
pub async fn track_requests(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id_of(&request);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let method = request.method().as_str().to_owned();
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let route = route_label(matched, request.uri().path());
    let user_id = user_id_in_path(request.uri().path()).map(str::to_owned);

    let in_flight = InFlight::enter();
    let mut response = next.run(request).await;
    drop(in_flight);

    let status = response.status().as_u16().to_string();
    let seconds = started.elapsed().as_secs_f64();
    let labels = [
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status.clone()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(seconds);
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = (seconds * 1000.0 * 1000.0).round() / 1000.0,
        user_id = user_id.as_deref(),
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The `route` label: the matched route, except that chat turns, proxied by the `/api/{*path}`
/// catch-all, keep the backend's own route name; an LLM turn takes seconds and the alerts give
/// it its own latency objective.
fn route_label(matched: Option<&str>, path: &str) -> String {
    const CHAT_ROUTE: &str = "/api/{user_id}/chat";
    match matched {
        Some("/api/{*path}")
            if path
                .strip_prefix("/api/")
                .and_then(|rest| rest.strip_suffix("/chat"))
                .is_some_and(|user| !user.is_empty() && !user.contains('/')) =>
        {
            CHAT_ROUTE.to_owned()
        }
        Some(route) => route.to_owned(),
        None => UNMATCHED.to_owned(),
    }
}

/// The caller's id when it is usable (short, printable ASCII), else a new UUID.
fn request_id_of(request: &Request) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The `{user_id}` of `/api/{user_id}/…` paths; known only from the path, for the log line.
fn user_id_in_path(path: &str) -> Option<&str> {
    let mut segments = path.strip_prefix("/api/")?.split('/');
    let first = segments.next()?;
    segments.next()?;
    (!first.is_empty() && first != "auth").then_some(first)
}

/// Counts a request in `http_requests_in_flight` until dropped, even if the client goes away.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        metrics::gauge!("http_requests_in_flight").increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("http_requests_in_flight").decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_turns_keep_the_backends_route_label() {
        let catch_all = Some("/api/{*path}");
        assert_eq!(
            route_label(catch_all, "/api/u-1/chat"),
            "/api/{user_id}/chat"
        );
        assert_eq!(route_label(catch_all, "/api/u-1/tasks"), "/api/{*path}");
        assert_eq!(
            route_label(catch_all, "/api/u-1/chat/extra"),
            "/api/{*path}"
        );
        assert_eq!(route_label(Some("/healthz"), "/healthz"), "/healthz");
        assert_eq!(route_label(None, "/nope"), UNMATCHED);
    }

    #[test]
    fn the_user_id_is_read_from_api_paths_but_not_from_auth_routes() {
        assert_eq!(user_id_in_path("/api/abc-123/tasks"), Some("abc-123"));
        assert_eq!(user_id_in_path("/api/auth/sign-in"), None);
        assert_eq!(
            user_id_in_path("/api/openapi.json"),
            None,
            "a single segment is not a user id"
        );
        assert_eq!(user_id_in_path("/assets/x/app.js"), None);
    }
}
