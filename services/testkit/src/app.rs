//! The backend spawned on port 0 against a fresh database, with an HTTP client and helpers to
//! sign up and to mint tokens.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use todo_backend::{Application, db::Database};
use todo_config::{BackendConfig, MapEnv};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::postgres::TestPostgres;

/// The HS256 secret every test app is configured with.
pub const TEST_SECRET: &str = "test-secret-for-the-todo-backend-0123456789";

/// Which database a test app runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on a real PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Both, for tests that run the same behaviour on each.
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];
}

/// A signed-up user: id, email and a valid token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl TestUser {
    /// `Bearer <token>`.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// A running backend.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// The app's own database handle (to inspect or arrange state directly).
    pub db: Database,
    pub backend: Backend,
    /// The `DATABASE_URL` the app was given.
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _sqlite_dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// The app on a fresh database of the given kind. `None` only for PostgreSQL when none is
    /// available outside CI (a SKIPPED line has been printed).
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, &[]).await
    }

    /// As [`TestApp::spawn`], with extra environment settings (`("BODY_LIMIT_BYTES", "64")`).
    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("creating a temporary folder");
                let url = format!("sqlite://{}", dir.path().join("todo.db").display());
                let mut app = Self::spawn_on(&url, overrides).await;
                app.backend = Backend::Sqlite;
                app._sqlite_dir = Some(dir);
                Some(app)
            }
            Backend::Postgres => {
                let database = TestPostgres::fresh().await?;
                let mut app = Self::spawn_on(&database.url, overrides).await;
                app.backend = Backend::Postgres;
                Some(app)
            }
        }
    }

    /// The app on an explicit `DATABASE_URL`, with extra settings.
    pub async fn spawn_on(database_url: &str, overrides: &[(&str, &str)]) -> Self {
        let mut env = MapEnv::new([
            ("BIND", "127.0.0.1"),
            ("PORT", "0"),
            ("BETTER_AUTH_SECRET", TEST_SECRET),
            ("DATABASE_URL", database_url),
            ("SHUTDOWN_GRACE_SECONDS", "5"),
            ("CHAT_ENGINE", "builtin"),
        ]);
        for (name, value) in overrides {
            env.0.insert((*name).to_owned(), (*value).to_owned());
        }
        let config = BackendConfig::from_env(&env).expect("test configuration is valid");
        let app = Application::build(config)
            .await
            .expect("the backend builds");
        let port = app.port();
        let db = app.state().db.clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("building the HTTP client"),
            db,
            backend: if database_url.starts_with("sqlite") {
                Backend::Sqlite
            } else {
                Backend::Postgres
            },
            database_url: database_url.to_owned(),
            shutdown: Some(shutdown),
            server: Some(server),
            _sqlite_dir: None,
        }
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The backend's `/metrics` page (Prometheus text).
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(response.status(), 200, "GET /metrics");
        response.text().await.expect("reading /metrics")
    }

    /// Signs up `email` (password `correct-horse-battery`) through the API.
    pub async fn sign_up(&self, email: &str) -> TestUser {
        let response = self
            .client
            .post(self.url("/api/auth/sign-up"))
            .json(&json!({"email": email, "password": "correct-horse-battery"}))
            .send()
            .await
            .expect("sign-up request");
        assert_eq!(response.status(), 201, "sign-up of {email} should succeed");
        let body: Value = response.json().await.expect("sign-up body is JSON");
        TestUser {
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            email: email.to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// A valid HS256 token for `user_id`, expiring in an hour.
    pub fn mint_token(&self, user_id: &str) -> String {
        let exp = unix_now() + 3600;
        mint_token_with(
            &json!({"sub": user_id, "exp": exp}),
            Algorithm::HS256,
            TEST_SECRET.as_bytes(),
        )
    }

    /// Stops the server the way SIGTERM would and waits for it to finish: its shutdown delay
    /// (`SHUTDOWN_DELAY_SECONDS`, 0 unless overridden), then the drain.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // `begin_shutdown` hands over the server task: wait on that one.
        match self.begin_shutdown() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }

    /// Signals shutdown without waiting; returns the server task to await. The app keeps
    /// serving (and `/readyz` answers 503 `draining`) for its shutdown delay, then stops
    /// accepting connections and drains; `address` and `client` stay usable meanwhile.
    pub fn begin_shutdown(&mut self) -> Option<JoinHandle<anyhow::Result<()>>> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.server.take()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A token with any claims, algorithm (HMAC family) and secret, for tests of refusals.
pub fn mint_token_with(claims: &Value, alg: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
        .expect("encoding a test token")
}

/// A token with `alg: none` and no signature.
pub fn unsigned_token(claims: &Value) -> String {
    use base64_url::encode;
    format!(
        "{}.{}.",
        encode(br#"{"alg":"none","typ":"JWT"}"#),
        encode(claims.to_string().as_bytes())
    )
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

pub mod base64_url {
    //! Unpadded base64url, enough to build an unsigned JWT by hand.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn encodes_like_rfc_4648_without_padding() {
            assert_eq!(super::encode(b"f"), "Zg");
            assert_eq!(super::encode(b"fo"), "Zm8");
            assert_eq!(super::encode(b"foo"), "Zm9v");
            assert_eq!(super::encode(b"\xfb\xff"), "-_8");
        }
    }
}
