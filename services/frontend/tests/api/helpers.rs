//! Starting the frontend and test upstreams on port 0, and a client with bounded waits.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use serde_json::{Value, json};
use todo_config::{FrontendConfig, MapEnv};
use todo_frontend::{Application, startup::StartupError};
use tokio::{
    net::TcpListener,
    sync::{Mutex, mpsc, oneshot},
    task::JoinHandle,
};

/// No test waits longer than this for anything.
pub const WAIT: Duration = Duration::from_secs(20);

/// A frontend serving on 127.0.0.1, stopped when `stop` is called (or the test ends).
pub struct TestFrontend {
    pub address: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), StartupError>>>,
}

impl TestFrontend {
    pub async fn spawn(backend_url: &str) -> Self {
        Self::spawn_with(backend_url, &[]).await
    }

    /// With extra settings, e.g. `("PROXY_TIMEOUT_SECONDS", "1")`.
    pub async fn spawn_with(backend_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut settings = vec![
            ("PORT", "0"),
            ("BIND", "127.0.0.1"),
            ("BACKEND_URL", backend_url),
        ];
        settings.extend_from_slice(extra);
        let config = FrontendConfig::from_env(&MapEnv::new(settings)).unwrap();
        let app = Application::build(config).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Begins the graceful shutdown and returns the server's task, to await when wanted.
    pub fn begin_shutdown(&mut self) -> JoinHandle<Result<(), StartupError>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.take().unwrap()
    }
}

impl Drop for TestFrontend {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// An HTTP client for the tests: no system proxy, every call bounded by [`WAIT`].
pub fn client() -> reqwest::Client {
    todo_service_kit::tls::install_provider();
    reqwest::Client::builder()
        .no_proxy()
        // The tests read the wire as it is (Content-Encoding included), even when another
        // crate of the workspace turns on reqwest's transparent gzip.
        .no_gzip()
        .timeout(WAIT)
        .build()
        .unwrap()
}

/// A port on which nothing listens: bound, then released.
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// An address that never accepts: its accept queue is full and never drained, so the kernel
/// drops further connection attempts and they hang until the connecting side gives up.
pub struct Unaccepting {
    pub url: String,
    _listener: TcpListener,
    _queued: Vec<tokio::net::TcpStream>,
}

impl Unaccepting {
    pub async fn spawn() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let address = listener.local_addr().unwrap();
        let mut queued = Vec::new();
        for _ in 0..64 {
            let attempt = tokio::net::TcpStream::connect(address);
            match tokio::time::timeout(Duration::from_millis(300), attempt).await {
                Ok(Ok(stream)) => queued.push(stream),
                Ok(Err(error)) => panic!("connecting to {address} failed: {error}"),
                Err(_) => {
                    return Self {
                        url: format!("http://{address}"),
                        _listener: listener,
                        _queued: queued,
                    };
                }
            }
        }
        panic!("the accept queue of {address} never filled");
    }
}

/// Serves `router` on 127.0.0.1:0; returns its base URL and its task.
pub async fn serve(router: Router) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (format!("http://{address}"), task)
}

/// A fake backend whose answers describe what it received, plus a few special routes.
pub struct Upstream {
    pub url: String,
    /// Sends the chunks of the next `/mcp` event stream; dropping it ends the stream.
    pub events: mpsc::Sender<Bytes>,
    /// Notified when a request to `/api/held` has arrived.
    pub held_arrived: Arc<tokio::sync::Notify>,
    /// Released to let `/api/held` answer.
    pub release_held: Arc<tokio::sync::Notify>,
    _task: JoinHandle<()>,
}

#[derive(Clone)]
struct UpstreamState {
    events: Arc<Mutex<Option<mpsc::Receiver<Bytes>>>>,
    held_arrived: Arc<tokio::sync::Notify>,
    release_held: Arc<tokio::sync::Notify>,
}

impl Upstream {
    pub async fn spawn() -> Self {
        Self::spawn_ready(true).await
    }

    /// As [`Upstream::spawn`], but its `/readyz` answers 503 (a backend whose database is away).
    pub async fn spawn_not_ready() -> Self {
        Self::spawn_ready(false).await
    }

    async fn spawn_ready(ready: bool) -> Self {
        let (events, receiver) = mpsc::channel(8);
        let held_arrived = Arc::new(tokio::sync::Notify::new());
        let release_held = Arc::new(tokio::sync::Notify::new());
        let state = UpstreamState {
            events: Arc::new(Mutex::new(Some(receiver))),
            held_arrived: held_arrived.clone(),
            release_held: release_held.clone(),
        };
        let router = Router::new()
            .route(
                "/readyz",
                get(move || async move {
                    let (code, status) = if ready {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
                    };
                    (code, Json(json!({"status": status, "checks": {}})))
                }),
            )
            .route("/api/slow", get(slow))
            .route("/api/held", get(held))
            .route("/api/teapot", get(teapot))
            .route("/mcp", any(event_stream))
            .route("/api/{*rest}", any(echo))
            .with_state(state);
        let (url, task) = serve(router).await;
        Self {
            url,
            events,
            held_arrived,
            release_held,
            _task: task,
        }
    }
}

/// Answers with what arrived: method, path and query, headers, body size and checksum.
async fn echo(request: Request) -> Json<Value> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Json(json!({
        "method": parts.method.as_str(),
        "path_and_query": parts.uri.path_and_query().map(|pq| pq.as_str()),
        "headers": headers_as_json(&parts.headers),
        "body_len": bytes.len(),
        "body_sum": checksum(&bytes),
    }))
}

pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().enumerate().fold(0u64, |sum, (i, b)| {
        sum.wrapping_mul(31).wrapping_add(u64::from(*b) ^ i as u64)
    })
}

fn headers_as_json(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or("<binary>").to_owned(),
            )
        })
        .collect()
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

async fn held(State(state): State<UpstreamState>) -> &'static str {
    state.held_arrived.notify_one();
    state.release_held.notified().await;
    "released"
}

async fn teapot() -> Response {
    (
        StatusCode::IM_A_TEAPOT,
        [("x-upstream-says", "short and stout")],
        "tea",
    )
        .into_response()
}

async fn event_stream(State(state): State<UpstreamState>) -> Response {
    let Some(receiver) = state.events.lock().await.take() else {
        return (StatusCode::CONFLICT, "one stream per test upstream").into_response();
    };
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), receiver))
    });
    (
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
