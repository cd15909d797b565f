//! A user talking to the chat endpoint, and what their task list looks like.

use serde_json::{Value, json};
pub use todo_testkit::{Backend, TestApp, TestUser};

/// One user's side of a conversation.
pub struct Chat<'a> {
    pub app: &'a TestApp,
    pub user: TestUser,
    pub conversation_id: Option<i64>,
}

/// A chat reply: status and JSON body.
#[derive(Debug)]
pub struct Said {
    pub status: u16,
    pub body: Value,
}

impl Said {
    pub fn response(&self) -> &str {
        self.body["response"].as_str().unwrap_or_default()
    }

    /// The names of the tools the turn ran, in order.
    pub fn tools(&self) -> Vec<&str> {
        self.body["tool_calls"]
            .as_array()
            .map(|calls| calls.iter().filter_map(|c| c["tool"].as_str()).collect())
            .unwrap_or_default()
    }

    pub fn call(&self, index: usize) -> &Value {
        &self.body["tool_calls"][index]
    }
}

impl<'a> Chat<'a> {
    pub async fn new(app: &'a TestApp, name: &str) -> Self {
        let email = format!("{name}-{}@example.com", uuid_like());
        Self {
            app,
            user: app.sign_up(&email).await,
            conversation_id: None,
        }
    }

    /// Sends a message in the current conversation (a new one the first time); expects 200.
    pub async fn say(&mut self, message: &str) -> Said {
        let said = self.try_say(message, self.conversation_id).await;
        assert_eq!(
            said.status, 200,
            "{message:?} was answered with {}: {}",
            said.status, said.body
        );
        let id = said.body["conversation_id"]
            .as_i64()
            .expect("a conversation id");
        self.conversation_id = Some(id);
        said
    }

    /// Sends a message to any conversation and returns whatever comes back.
    pub async fn try_say(&self, message: &str, conversation_id: Option<i64>) -> Said {
        let mut body = json!({ "message": message });
        if let Some(id) = conversation_id {
            body["conversation_id"] = json!(id);
        }
        self.post(&format!("/api/{}/chat", self.user.id), body)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Said {
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header("authorization", self.user.bearer())
            .json(&body)
            .send()
            .await
            .expect("chat request");
        read(response).await
    }

    pub async fn get(&self, path: &str) -> Said {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .header("authorization", self.user.bearer())
            .send()
            .await
            .expect("GET request");
        read(response).await
    }

    /// The user's tasks through the REST API, oldest first.
    pub async fn tasks(&self) -> Vec<Value> {
        let said = self.get(&format!("/api/{}/tasks", self.user.id)).await;
        assert_eq!(said.status, 200, "{}", said.body);
        said.body.as_array().cloned().unwrap_or_default()
    }

    pub async fn titles(&self) -> Vec<String> {
        self.tasks()
            .await
            .iter()
            .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Creates a task through the REST API and returns its id.
    pub async fn add(&self, title: &str) -> i64 {
        let said = self
            .post(
                &format!("/api/{}/tasks", self.user.id),
                json!({ "title": title }),
            )
            .await;
        assert_eq!(said.status, 201, "{}", said.body);
        said.body["id"].as_i64().expect("task id")
    }

    pub async fn task(&self, id: i64) -> Option<Value> {
        self.tasks().await.into_iter().find(|t| t["id"] == id)
    }
}

async fn read(response: reqwest::Response) -> Said {
    let status = response.status().as_u16();
    let text = response.text().await.expect("reading the body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Said { status, body }
}

/// A unique suffix for emails, so tests sharing a database never collide.
pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{nanos}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub async fn sqlite_app() -> TestApp {
    TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite is always available")
}
