//! The streaming reverse proxy: `/api/*` and `/mcp` go to `BACKEND_URL` unchanged (method,
//! path, query, headers but hop-by-hop ones, bodies streamed both ways, so MCP's server-sent
//! events arrive as they are sent). A backend that is down or slow gets a JSON 502/504.

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::{Body, HttpBody},
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::Response,
};
use futures::TryStreamExt;

use crate::{error::FrontendError, state::AppState};

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The longest wait for a connection to the backend (shorter when `PROXY_TIMEOUT_SECONDS` is).
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection to the backend may take with this `PROXY_TIMEOUT_SECONDS`.
pub fn connect_timeout(proxy_timeout: Duration) -> Duration {
    proxy_timeout.min(MAX_CONNECT_TIMEOUT)
}

/// The HTTP client to the backend: pooled keep-alive connections, no redirects followed (the
/// browser should see them), no system proxy (the backend is a neighbour).
pub fn backend_client(proxy_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout(proxy_timeout))
        // Between two reads of a streamed body; a long SSE stream stays open while it talks.
        .read_timeout(proxy_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
}

/// Forwards one request to the backend and relays its answer as it arrives.
pub async fn forward(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, FrontendError> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let url = format!("{}{path_and_query}", state.config.backend_url);
    let method = request.method().clone();
    let headers = upstream_headers(request.headers(), peer);

    let body = request.into_body();
    let mut outgoing = state.client.request(method, &url).headers(headers);
    if body.size_hint().exact() != Some(0) {
        let stream = body.into_data_stream();
        outgoing = outgoing.body(reqwest::Body::wrap_stream(stream));
    }

    let timeout = state.config.proxy_timeout;
    let answer = match tokio::time::timeout(timeout, outgoing.send()).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => return Err(upstream_failure(&state, &error)),
        Err(_) => {
            count_upstream_error("timeout");
            return Err(FrontendError::BackendTimeout {
                seconds: timeout.as_secs(),
            });
        }
    };
    metrics::gauge!("backend_up").set(1.0);

    let mut response = Response::builder().status(answer.status());
    if let Some(headers) = response.headers_mut() {
        *headers = downstream_headers(answer.headers());
    }
    let stream = answer.bytes_stream().inspect_err(|error| {
        count_upstream_error(if error.is_timeout() {
            "timeout"
        } else {
            "other"
        });
        tracing::warn!(error = %error, "the backend's body stopped before its end");
    });
    response.body(Body::from_stream(stream)).map_err(|error| {
        tracing::error!(error = %error, "relaying the backend's answer failed");
        FrontendError::BadGateway
    })
}

/// Classifies a failed call, counts it, and picks the answer for the client.
fn upstream_failure(state: &AppState, error: &reqwest::Error) -> FrontendError {
    if error.is_timeout() {
        count_upstream_error("timeout");
        // The connection itself timed out: say so, not the whole call's deadline.
        if error.is_connect() {
            tracing::warn!(error = %error, backend = %state.config.backend_url, "backend connection timed out");
            return FrontendError::ConnectTimeout {
                seconds: connect_timeout(state.config.proxy_timeout).as_secs(),
            };
        }
        return FrontendError::BackendTimeout {
            seconds: state.config.proxy_timeout.as_secs(),
        };
    }
    if error.is_connect() {
        count_upstream_error("connect");
        metrics::gauge!("backend_up").set(0.0);
        tracing::warn!(error = %error, backend = %state.config.backend_url, "backend unreachable");
        return FrontendError::BackendUnavailable;
    }
    count_upstream_error("other");
    tracing::warn!(error = ?error, "proxied call failed");
    FrontendError::BadGateway
}

fn count_upstream_error(kind: &'static str) {
    metrics::counter!("proxy_upstream_errors_total", "kind" => kind).increment(1);
}

/// The request's end-to-end headers, plus `x-forwarded-*`; `Host` becomes the backend's.
pub fn upstream_headers(incoming: &HeaderMap, peer: Option<SocketAddr>) -> HeaderMap {
    let mut headers = end_to_end(incoming);
    headers.remove(header::HOST);

    if let Some(peer) = peer {
        let chain = match incoming.get(&FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {}", peer.ip()),
            None => peer.ip().to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&chain) {
            headers.insert(FORWARDED_FOR, value);
        }
    }
    // An ingress in front of us knows the real scheme and host; keep what it says.
    if !headers.contains_key(&FORWARDED_PROTO) {
        headers.insert(FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if let (false, Some(host)) = (
        headers.contains_key(&FORWARDED_HOST),
        incoming.get(header::HOST),
    ) {
        headers.insert(FORWARDED_HOST, host.clone());
    }
    headers
}

/// The backend's end-to-end headers, for the client.
pub fn downstream_headers(upstream: &HeaderMap) -> HeaderMap {
    end_to_end(upstream)
}

/// `headers` without hop-by-hop headers, including any that `Connection` names.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = headers.clone();
    for name in HOP_BY_HOP.iter() {
        kept.remove(name);
    }
    kept.remove("proxy-connection");
    for name in named_by_connection {
        kept.remove(name.as_str());
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_by_connection_are_dropped() {
        let mut incoming = HeaderMap::new();
        incoming.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        incoming.insert("x-secret-hop", HeaderValue::from_static("1"));
        incoming.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        incoming.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        incoming.insert(header::HOST, HeaderValue::from_static("todo.example:3000"));
        let out = upstream_headers(&incoming, Some("10.0.0.7:5555".parse().unwrap()));
        assert!(
            out.get("x-secret-hop").is_none(),
            "a header named by Connection must not pass"
        );
        assert!(out.get(header::TRANSFER_ENCODING).is_none());
        assert!(
            out.get(header::HOST).is_none(),
            "Host must become the backend's"
        );
        assert_eq!(
            out[header::AUTHORIZATION],
            "Bearer t",
            "end-to-end headers pass"
        );
        assert_eq!(out["x-forwarded-for"], "10.0.0.7");
        assert_eq!(out["x-forwarded-host"], "todo.example:3000");
        assert_eq!(out["x-forwarded-proto"], "http");
    }

    #[test]
    fn an_earlier_forwarded_chain_is_extended_and_an_ingress_scheme_kept() {
        let mut incoming = HeaderMap::new();
        incoming.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        incoming.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let out = upstream_headers(&incoming, Some("10.0.0.7:5555".parse().unwrap()));
        assert_eq!(out["x-forwarded-for"], "203.0.113.9, 10.0.0.7");
        assert_eq!(out["x-forwarded-proto"], "https");
    }
}
