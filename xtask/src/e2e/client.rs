//! The HTTP side of the end-to-end scenarios: the API as the UI calls it, through the
//! frontend's URL, with a signed-up user's token.

use std::time::Duration;

use anyhow::{Context, ensure};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The stack under test, reached at its UI's URL.
#[derive(Clone)]
pub struct Stack {
    pub base: String,
    pub http: reqwest::Client,
}

/// A signed-up account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

/// One answer: its status and its body (JSON when it parses, else the text as a JSON string).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// Fails unless the status is `want`, quoting the body.
    pub fn expect(self, want: u16) -> anyhow::Result<Value> {
        ensure!(
            self.status.as_u16() == want,
            "expected {want}, got {}: {}",
            self.status,
            self.body
        );
        Ok(self.body)
    }
}

impl Stack {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `body` (JSON, or nothing) with `token`, reads the answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request, &format!("{method} {path}")).await
    }

    /// Sends a prepared request (raw bodies, odd headers), reads the answer.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<Answer> {
        let response = request
            .send()
            .await
            .with_context(|| format!("{what}: no answer"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("{what}: reading the body"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    /// Signs up a fresh account (a unique email per call).
    pub async fn sign_up(&self, label: &str) -> anyhow::Result<User> {
        let email = format!("e2e-{label}-{}@example.com", unique());
        let password = format!("pw-{}-long-enough", unique());
        let body = self
            .call(
                Method::POST,
                "/api/auth/sign-up",
                None,
                Some(json!({"email": email, "password": password, "name": label})),
            )
            .await?
            .expect(201)
            .context("signing up")?;
        Ok(User {
            id: body["user"]["id"]
                .as_str()
                .context("sign-up returned no user id")?
                .to_owned(),
            email,
            password,
            token: body["token"]
                .as_str()
                .context("sign-up returned no token")?
                .to_owned(),
        })
    }

    /// `/api/{user}/{rest}` with the user's token.
    pub async fn user_call(
        &self,
        user: &User,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        self.call(
            method,
            &format!("/api/{}/{rest}", user.id),
            Some(&user.token),
            body,
        )
        .await
    }

    /// One chat turn; returns the whole answer body.
    pub async fn chat(
        &self,
        user: &User,
        message: &str,
        conversation: Option<i64>,
    ) -> anyhow::Result<Value> {
        let mut body = json!({"message": message});
        if let Some(id) = conversation {
            body["conversation_id"] = json!(id);
        }
        self.user_call(user, Method::POST, "chat", Some(body))
            .await?
            .expect(200)
            .with_context(|| format!("chat turn {message:?}"))
    }

    /// The user's tasks (`status` all, pending or completed).
    pub async fn tasks(&self, user: &User, query: &str) -> anyhow::Result<Vec<Value>> {
        let body = self
            .user_call(user, Method::GET, &format!("tasks{query}"), None)
            .await?
            .expect(200)?;
        body.as_array()
            .cloned()
            .with_context(|| format!("the task list is not an array: {body}"))
    }
}

/// A value no other run of the scenarios uses (time and a counter).
pub fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
