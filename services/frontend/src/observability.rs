//! One middleware for every request: the `x-request-id` (taken or created, and returned), the
//! HTTP metrics of the interface sheet, and one JSON log line.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};

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
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
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
