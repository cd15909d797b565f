//! The streaming reverse proxy: `/api/*` and `/mcp` go to `BACKEND_URL` unchanged (method,
//! path, query, headers but hop-by-hop ones, answers streamed back, so MCP's server-sent events
//! arrive as they are sent). Request bodies over `BODY_LIMIT_BYTES` get a 413 here and never
//! reach the backend. Idempotent calls whose connection broke before any answer are retried
//! once on a new connection. A backend that is down or slow gets a JSON 502/504.

mod body;
mod headers;
mod retry;

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::{Body, HttpBody},
    extract::{ConnectInfo, Request, State},
    http::Method,
    response::Response,
};
use futures::TryStreamExt;
use tokio::time::Instant;

pub use headers::{downstream_headers, upstream_headers};

use todo_service_kit::body::BodyError;

use crate::{error::FrontendError, state::AppState};

/// The longest wait for a connection to the backend (shorter when `PROXY_TIMEOUT_SECONDS` is).
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection to the backend may take with this `PROXY_TIMEOUT_SECONDS`.
pub fn connect_timeout(proxy_timeout: Duration) -> Duration {
    proxy_timeout.min(MAX_CONNECT_TIMEOUT)
}

/// The HTTP client to the backend: pooled keep-alive connections, no redirects followed (the
/// browser should see them), no system proxy (the backend is a neighbour).
pub fn backend_client(proxy_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    client_builder(proxy_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
}

/// As [`backend_client`], but every call opens a new connection and closes it after: for the
/// one retry of a call whose pooled connection broke (its pool neighbours may be stale too).
pub fn fresh_connection_client(proxy_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    client_builder(proxy_timeout)
        .pool_max_idle_per_host(0)
        .build()
}

fn client_builder(proxy_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout(proxy_timeout))
        // Between two reads of a streamed body; a long SSE stream stays open while it talks.
        .read_timeout(proxy_timeout)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        // Bodies pass through as the backend encoded them, whatever reqwest features another
        // crate of the workspace turns on (one of them enables transparent gzip).
        .no_gzip()
}

/// Forwards one request to the backend and relays its answer as it arrives.
pub async fn forward(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, FrontendError> {
    let limit = state.config.body_limit_bytes;
    if body::declared_over(request.headers(), limit) {
        body::drain(request.into_body()).await;
        return Err(FrontendError::PayloadTooLarge { limit });
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let call = Call {
        url: format!("{}{path_and_query}", state.config.backend_url),
        method: request.method().clone(),
        headers: upstream_headers(request.headers(), peer),
        deadline: Instant::now() + state.config.proxy_timeout,
    };

    let body = request.into_body();
    let answer = if retry::is_idempotent(&call.method) {
        call.send_replayable(&state, body).await?
    } else {
        call.send_streamed(&state, body).await?
    };
    metrics::gauge!("backend_up").set(1.0);
    relay(answer)
}

/// One proxied call; every wait in it ends by `deadline` (`PROXY_TIMEOUT_SECONDS` from its start).
struct Call {
    url: String,
    method: Method,
    headers: axum::http::HeaderMap,
    deadline: Instant,
}

impl Call {
    /// Reads the body whole (within the limit), so the call can be sent twice: once more on a
    /// new connection when the first one broke before any answer.
    async fn send_replayable(
        &self,
        state: &AppState,
        body: Body,
    ) -> Result<reqwest::Response, FrontendError> {
        let bytes = match body.size_hint().exact() {
            Some(0) => None,
            _ => {
                let mut stream = body.into_data_stream();
                let limit = state.config.body_limit_bytes;
                let read = tokio::time::timeout_at(
                    self.deadline,
                    body::collect_limited(&mut stream, limit),
                )
                .await
                .map_err(|_| {
                    FrontendError::BadRequest(format!(
                        "the request body did not arrive within {} s (PROXY_TIMEOUT_SECONDS)",
                        state.config.proxy_timeout.as_secs()
                    ))
                })?;
                if let Err(BodyError::TooLarge { .. }) = read {
                    // After the deadline too: the refusal stands, however slow the client.
                    body::drain_stream(&mut stream).await;
                }
                Some(read?)
            }
        };
        let send = |client: &reqwest::Client| {
            let mut outgoing = client
                .request(self.method.clone(), &self.url)
                .headers(self.headers.clone());
            if let Some(bytes) = &bytes {
                outgoing = outgoing.body(bytes.clone());
            }
            outgoing.send()
        };
        let attempts = async {
            match send(&state.client).await {
                Err(error) if retry::connection_broke_before_answer(&error) => {
                    tracing::info!(error = %error, method = %self.method,
                        "the backend connection broke before an answer; retrying once on a new connection");
                    send(&state.fresh_client).await
                }
                outcome => outcome,
            }
        };
        let outcome = tokio::time::timeout_at(self.deadline, attempts).await;
        outcome_for_client(state, outcome)
    }

    /// Streams the body to the backend as it arrives, counting: past the limit the upload is cut
    /// and the client gets a 413, unless the backend has already answered (then that answer).
    async fn send_streamed(
        &self,
        state: &AppState,
        body: Body,
    ) -> Result<reqwest::Response, FrontendError> {
        let limit = state.config.body_limit_bytes;
        let mut outgoing = state
            .client
            .request(self.method.clone(), &self.url)
            .headers(self.headers.clone());
        let mut counted = None;
        if body.size_hint().exact() != Some(0) {
            let (stream, count) = body::limited_stream(body, limit);
            outgoing = outgoing.body(stream);
            counted = Some(count);
        }
        let outcome = tokio::time::timeout_at(self.deadline, outgoing.send()).await;
        // The upload was cut at the limit and the backend had not answered before (or the
        // deadline passed while the rest was being drained): our 413.
        if !matches!(outcome, Ok(Ok(_))) && counted.is_some_and(|count| count.exceeded()) {
            return Err(FrontendError::PayloadTooLarge { limit });
        }
        outcome_for_client(state, outcome)
    }
}

/// The backend's answer, or the error for the client when there is none by the deadline.
fn outcome_for_client(
    state: &AppState,
    outcome: Result<reqwest::Result<reqwest::Response>, tokio::time::error::Elapsed>,
) -> Result<reqwest::Response, FrontendError> {
    match outcome {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => Err(upstream_failure(state, &error)),
        Err(_) => {
            count_upstream_error("timeout");
            Err(FrontendError::BackendTimeout {
                seconds: state.config.proxy_timeout.as_secs(),
            })
        }
    }
}

/// The backend's answer for the client: status, end-to-end headers, the body as it streams.
fn relay(answer: reqwest::Response) -> Result<Response, FrontendError> {
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
