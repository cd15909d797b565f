//! Shared by the test binaries that need the real backend: `todo-testkit`'s `TestApp` on port 0,
//! with a SQLite database in a temporary folder of ours, so it survives restarts.
//!
//! Start the backend BEFORE the frontend: both install the process's one metrics recorder,
//! and only the backend refuses to start without it.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use tempfile::TempDir;
use todo_config::{FrontendConfig, MapEnv};
use todo_testkit::TestApp;
use tokio::task::JoinHandle;

/// No test waits longer than this for anything.
pub const WAIT: Duration = Duration::from_secs(30);

/// The real backend, with a database that outlives restarts of the server.
pub struct RealBackend {
    pub url: String,
    port: u16,
    database_url: String,
    app: Option<TestApp>,
    _folder: TempDir,
}

impl RealBackend {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// With extra settings, e.g. `("BODY_LIMIT_BYTES", "64")`.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", folder.path().join("todo.db").display());
        let app = TestApp::spawn_on(&database_url, overrides).await;
        Self {
            url: app.address.clone(),
            port: app.port,
            database_url,
            app: Some(app),
            _folder: folder,
        }
    }

    /// Stops the server (graceful, bounded); its port stops answering.
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            tokio::time::timeout(WAIT, app.shutdown())
                .await
                .expect("the backend did not stop")
                .unwrap();
        }
    }

    /// Starts it again on the same port, with the same database.
    pub async fn restart(&mut self) {
        let port = self.port.to_string();
        self.app = Some(TestApp::spawn_on(&self.database_url, &[("PORT", port.as_str())]).await);
    }
}

/// A frontend in front of `backend_url`, serving until the test ends.
pub struct Frontend {
    pub url: String,
    server: JoinHandle<()>,
}

impl Frontend {
    pub async fn spawn(backend_url: &str) -> Self {
        Self::spawn_with(backend_url, &[]).await
    }

    /// With extra settings, e.g. `("BODY_LIMIT_BYTES", "8388608")`.
    pub async fn spawn_with(backend_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut settings = vec![
            ("PORT", "0"),
            ("BIND", "127.0.0.1"),
            ("BACKEND_URL", backend_url),
        ];
        settings.extend_from_slice(extra);
        let env = MapEnv::new(settings);
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
