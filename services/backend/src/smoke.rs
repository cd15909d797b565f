//! `backend smoke --url URL`: a task round trip through a running deployment, for `helm test`
//! (the images have no shell or curl). It signs up a throwaway account, creates a task, finds
//! it in the list and deletes it again, each step bounded, and says which step failed.

use std::time::Duration;

use anyhow::{Context, bail, ensure};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// The longest any one step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the round trip against `base` (the frontend's or the backend's address).
pub async fn round_trip(base: &str) -> anyhow::Result<()> {
    let base = base.trim_end_matches('/');
    let client = Client::builder()
        .timeout(STEP_TIMEOUT)
        .build()
        .context("building the HTTP client")?;

    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let account = json!({
        "email": format!("smoke-{nonce}@example.invalid"),
        "password": format!("smoke-{nonce}"),
        "name": "helm test",
    });
    let signed_up = send(
        client
            .post(format!("{base}/api/auth/sign-up"))
            .json(&account),
        StatusCode::CREATED,
        "signing up a throwaway account",
    )
    .await?;
    let token = field(&signed_up, &["token"])?;
    let user_id = field(&signed_up, &["user", "id"])?;
    let tasks = format!("{base}/api/{user_id}/tasks");

    let title = format!("smoke test {nonce}");
    let created = send(
        client
            .post(&tasks)
            .bearer_auth(&token)
            .json(&json!({ "title": title })),
        StatusCode::CREATED,
        "creating a task",
    )
    .await?;
    let task_id = created
        .get("id")
        .and_then(Value::as_i64)
        .context("the created task has no numeric `id`")?;

    let listed = send(
        client.get(&tasks).bearer_auth(&token),
        StatusCode::OK,
        "listing the tasks",
    )
    .await?;
    let found = listed.as_array().is_some_and(|all| {
        all.iter()
            .any(|t| t.get("id").and_then(Value::as_i64) == Some(task_id))
    });
    ensure!(
        found,
        "the task just created ({task_id}) is not in the list"
    );

    let deleted = client
        .delete(format!("{tasks}/{task_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .context("deleting the task: no answer")?;
    ensure!(
        deleted.status() == StatusCode::NO_CONTENT,
        "deleting the task: expected 204 No Content, got {}",
        deleted.status()
    );
    println!("smoke: sign-up, create, list and delete through {base} all passed");
    Ok(())
}

/// Sends one request and returns its JSON body, failing unless the status is `expected`.
async fn send(
    request: reqwest::RequestBuilder,
    expected: StatusCode,
    step: &str,
) -> anyhow::Result<Value> {
    let response = request
        .send()
        .await
        .with_context(|| format!("{step}: no answer"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("{step}: reading the answer"))?;
    if status != expected {
        bail!("{step}: expected {expected}, got {status}: {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("{step}: the answer is not JSON: {body}"))
}

/// A string at `path` in `value`.
fn field(value: &Value, path: &[&str]) -> anyhow::Result<String> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("the sign-up answer has no `{}`", path.join(".")))
}
