//! Shared by the test binaries that need the real backend: it runs in-process on a port of
//! its own, with a SQLite database in a temporary folder that survives restarts.
//!
//! Start the backend BEFORE the frontend: both install the process's one metrics recorder,
//! and only the backend refuses to start without it.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use tempfile::TempDir;
use todo_config::{BackendConfig, FrontendConfig, MapEnv};
use tokio::{sync::oneshot, task::JoinHandle};

/// No test waits longer than this for anything.
pub const WAIT: Duration = Duration::from_secs(30);

/// A throwaway signing key, long enough for the backend's check.
const TEST_SECRET: &str = "change-me-test-only-0123456789abcdef0123456789";

/// The real backend, with a database that outlives restarts of the server.
pub struct RealBackend {
    pub url: String,
    port: u16,
    folder: TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RealBackend {
    pub async fn spawn() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let (port, stop, server) = start(&folder, 0).await;
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            folder,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Stops the server (graceful, bounded); its port stops answering.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server)
                .await
                .expect("the backend did not stop")
                .unwrap()
                .unwrap();
        }
    }

    /// Starts it again on the same port, with the same database.
    pub async fn restart(&mut self) {
        let (_, stop, server) = start(&self.folder, self.port).await;
        self.stop = Some(stop);
        self.server = Some(server);
    }
}

impl Drop for RealBackend {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn start(
    folder: &TempDir,
    port: u16,
) -> (u16, oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>) {
    let database = format!("sqlite://{}", folder.path().join("todo.db").display());
    let port_text = port.to_string();
    let env = MapEnv::new([
        ("DATABASE_URL", database.as_str()),
        ("BETTER_AUTH_SECRET", TEST_SECRET),
        ("PORT", port_text.as_str()),
        ("BIND", "127.0.0.1"),
        ("CHAT_ENGINE", "builtin"),
    ]);
    let config = BackendConfig::from_env(&env).unwrap();
    let app = todo_backend::Application::build(config).await.unwrap();
    let port = app.port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (port, stop, server)
}

/// A frontend in front of `backend_url`, serving until the test ends.
pub struct Frontend {
    pub url: String,
    server: JoinHandle<()>,
}

impl Frontend {
    pub async fn spawn(backend_url: &str) -> Self {
        let env = MapEnv::new([
            ("PORT", "0"),
            ("BIND", "127.0.0.1"),
            ("BACKEND_URL", backend_url),
        ]);
        let app = todo_frontend::Application::build(FrontendConfig::from_env(&env).unwrap())
            .await
            .unwrap();
        let url = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(async move {
            app.run_until(std::future::pending()).await.unwrap();
        });
        Self { url, server }
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for Frontend {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An HTTP client with bounded waits and no system proxy.
pub fn client() -> reqwest::Client {
    todo_frontend::install_tls_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .unwrap()
}

/// Signs up a fresh account through `base` (the frontend); returns (user id, token).
pub async fn sign_up(http: &reqwest::Client, base: &str) -> (String, String) {
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let answer = http
        .post(format!("{base}/api/auth/sign-up"))
        .json(&serde_json::json!({"email": email, "password": "correct horse battery", "name": "Test User"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "sign-up through the proxy must work");
    let body: serde_json::Value = answer.json().await.unwrap();
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}
