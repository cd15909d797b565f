//! What the fuzz targets share: one backend, built once per fuzzing process on an in-memory
//! SQLite database, called in-process through its router (no socket), with one signed-up user.
//!
//! The targets assert what must hold for every input: no panic (libFuzzer reports it as a
//! crash and saves the input), no 5xx answer (a 5xx is turned into a panic here), no hang
//! (libFuzzer's `-timeout`).

use std::sync::OnceLock;

use axum::{
    Router,
    body::{Body, Bytes},
    http::{Request, StatusCode},
};
use todo_backend::{Application, startup::router};
use todo_config::{BackendConfig, MapEnv};
use tower::ServiceExt;

/// The signing secret of the fuzzed backend: a test value, used nowhere else.
pub const SECRET: &str = "fuzzing-only-secret-0123456789abcdef-not-a-real-key";

/// The backend under fuzzing and its one user.
pub struct Backend {
    runtime: tokio::runtime::Runtime,
    router: Router,
    /// The signed-up user's id and a valid bearer token for them.
    pub user_id: String,
    pub token: String,
}

/// The process's backend, built on first use.
pub fn backend() -> &'static Backend {
    static BACKEND: OnceLock<Backend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        Backend::build().unwrap_or_else(|error| panic!("building the backend: {error:#}"))
    })
}

impl Backend {
    fn build() -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let env = MapEnv::new([
            ("BIND", "127.0.0.1"),
            ("PORT", "0"),
            ("DATABASE_URL", "sqlite::memory:"),
            ("DB_MAX_CONNECTIONS", "1"),
            ("BETTER_AUTH_SECRET", SECRET),
            ("CHAT_ENGINE", "builtin"),
        ]);
        let config = BackendConfig::from_env(&env).map_err(|e| format!("config: {e}"))?;
        let app = runtime
            .block_on(Application::build(config))
            .map_err(|e| format!("application: {e:#}"))?;
        let router = router(app.state().clone());
        let mut backend = Self {
            runtime,
            router,
            user_id: String::new(),
            token: String::new(),
        };
        let sign_up = Request::post("/api/auth/sign-up")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"email":"fuzz@example.com","password":"correct-horse-battery"}"#,
            ))
            .map_err(|e| e.to_string())?;
        let (status, body) = backend.call(sign_up);
        if status != StatusCode::CREATED {
            return Err(format!(
                "sign-up answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let session: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("sign-up body: {e}"))?;
        backend.user_id = session["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        backend.token = session["token"].as_str().unwrap_or_default().to_owned();
        Ok(backend)
    }

    /// Sends one request through the whole application (middleware included) and returns the
    /// answer. Panics on a 5xx: no input may make the server fail.
    pub fn call(&self, request: Request<Body>) -> (StatusCode, Bytes) {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, body) = self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            (status, body)
        });
        assert!(
            !status.is_server_error(),
            "{what} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        (status, body)
    }
}
