//! Shared helpers: one HTTP call with its JSON reply, and a macro that runs a behaviour on
//! both SQLite and PostgreSQL.

use reqwest::{Method, header::HeaderMap};
use serde_json::Value;
pub use todo_testkit::{Backend, TestApp, TestUser};

/// A reply: status, headers, and the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// Sends one request. Every error reply must be JSON `{"detail", "code"}`: checked here, so
/// every test that gets an error also checks its shape.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    user: Option<&TestUser>,
    body: Option<Value>,
) -> Reply {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(user) = user {
        request = request.header("authorization", user.bearer());
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    into_reply(response, &format!("{method} {path}")).await
}

/// Sends a prepared request (custom headers, raw bodies).
pub async fn send(request: reqwest::RequestBuilder, what: &str) -> Reply {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    into_reply(response, what).await
}

async fn into_reply(response: reqwest::Response, what: &str) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{what}: reading body: {e}"));
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{what} answered {status} with a body that is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    // `/readyz` has its own 503 shape (`status` and `checks`), as the interface sheet says.
    if status >= 400 && !what.ends_with("/readyz") {
        assert!(
            body["detail"].is_string() && body["code"].is_string(),
            "{what} answered {status} without a JSON error body: {body}"
        );
        assert!(
            headers.get("content-type").is_some_and(|v| v
                .to_str()
                .unwrap_or_default()
                .starts_with("application/json")),
            "{what} answered {status} without a JSON content type"
        );
    }
    Reply {
        status,
        headers,
        body,
    }
}

pub fn tasks_path(user: &TestUser) -> String {
    format!("/api/{}/tasks", user.id)
}

pub fn task_path(user: &TestUser, id: i64) -> String {
    format!("/api/{}/tasks/{id}", user.id)
}

/// Creates a task and returns its JSON.
pub async fn create_task(app: &TestApp, user: &TestUser, title: &str) -> Value {
    let reply = call(
        app,
        Method::POST,
        &tasks_path(user),
        Some(user),
        Some(serde_json::json!({"title": title})),
    )
    .await;
    assert_eq!(reply.status, 201, "creating {title}: {:?}", reply.body);
    reply.body
}

/// A unique email for a test user.
pub fn email(name: &str) -> String {
    format!("{name}-{}@example.org", uuid::Uuid::new_v4().simple())
}

/// Defines each behaviour once and runs it as two tests, `<name>::on_sqlite` and
/// `<name>::on_postgres`, each against a fresh app and database.
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn behaviour($app: $crate::helpers::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await.unwrap();
                    behaviour(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                        behaviour(app).await;
                    }
                }
            }
        )*
    };
}
pub(crate) use on_both_databases;
