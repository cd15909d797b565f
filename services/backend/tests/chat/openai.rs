//! The OpenAI-compatible agent against a fake Chat Completions server in the test: a model that
//! calls tools, one that answers directly, one that errors, one that hangs, one that never stops
//! calling tools.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::support::*;

#[derive(Debug, Clone, Copy)]
enum Model {
    /// Calls `add_task` (leaving out user_id), then answers with what the tool returned.
    CallsTools,
    AnswersDirectly,
    Errors,
    Hangs,
    /// Calls `list_tasks` every time it is asked.
    NeverStops,
}

#[derive(Clone)]
struct Fake {
    model: Model,
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

fn tool_call(name: &str, arguments: Value) -> Value {
    json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null,
        "tool_calls": [{"id": format!("call_{name}"), "type": "function",
            "function": {"name": name, "arguments": arguments.to_string()}}]}}]})
}

fn answer(text: &str) -> Value {
    json!({"choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": text}}]})
}

async fn completions(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    fake.requests.lock().unwrap().push((headers, body.clone()));
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    match fake.model {
        Model::CallsTools if last["role"] == "tool" => Json(answer(&format!(
            "The tool said {}",
            last["content"].as_str().unwrap()
        )))
        .into_response(),
        Model::CallsTools => {
            Json(tool_call("add_task", json!({"title": "Buy groceries"}))).into_response()
        }
        Model::AnswersDirectly => Json(answer("I only manage tasks.")).into_response(),
        Model::Errors => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "boom"}})),
        )
            .into_response(),
        Model::Hangs => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Json(answer("too late")).into_response()
        }
        Model::NeverStops => Json(tool_call("list_tasks", json!({}))).into_response(),
    }
}

/// Starts the fake model; returns its base URL and the requests it will have received.
async fn fake_model(model: Model) -> (String, Arc<Mutex<Vec<(HeaderMap, Value)>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let router = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(Fake {
            model,
            requests: requests.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}/v1"), requests)
}

async fn app_with(model: Model) -> (TestApp, Arc<Mutex<Vec<(HeaderMap, Value)>>>) {
    let (base_url, requests) = fake_model(model).await;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("CHAT_ENGINE", "openai"),
            ("OPENAI_BASE_URL", base_url.as_str()),
            ("OPENAI_API_KEY", "placeholder-test-key"),
            ("OPENAI_MODEL", "fake-model"),
            ("OPENAI_TIMEOUT_SECONDS", "1"),
            ("CHAT_MAX_TOOL_STEPS", "2"),
            ("CHAT_HISTORY_WINDOW", "2"),
        ],
    )
    .await
    .unwrap();
    (app, requests)
}

#[tokio::test]
async fn a_model_that_calls_tools_acts_through_the_tool_layer() {
    let (app, requests) = app_with(Model::CallsTools).await;
    let mut chat = Chat::new(&app, "llm-tools").await;
    let said = chat.say("please note that I must buy groceries").await;
    assert_eq!(said.tools(), ["add_task"]);
    assert_eq!(
        said.call(0)["input"]["user_id"],
        chat.user.id.as_str(),
        "the caller's id was filled in"
    );
    assert_eq!(said.call(0)["output"]["status"], "created");
    assert_eq!(chat.titles().await, ["Buy groceries"]);
    assert!(
        said.response().starts_with("The tool said {"),
        "{}",
        said.response()
    );

    let requests = requests.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        2,
        "one call for the tool, one for the answer"
    );
    let (headers, first) = &requests[0];
    assert_eq!(headers["authorization"], "Bearer placeholder-test-key");
    assert_eq!(first["model"], "fake-model");
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "add_task",
            "list_tasks",
            "complete_task",
            "delete_task",
            "update_task"
        ]
    );
    assert!(
        first["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains(&chat.user.id),
        "the system prompt names the user"
    );
    let second = &requests[1].1["messages"];
    assert_eq!(
        second.as_array().unwrap().last().unwrap()["role"],
        "tool",
        "the tool's output went back to the model"
    );
}

#[tokio::test]
async fn a_model_that_answers_directly_runs_no_tool_and_sees_a_bounded_history() {
    let (app, requests) = app_with(Model::AnswersDirectly).await;
    let mut chat = Chat::new(&app, "llm-direct").await;
    for message in ["one", "two", "three"] {
        let said = chat.say(message).await;
        assert_eq!(said.response(), "I only manage tasks.");
        assert!(said.tools().is_empty());
    }
    let requests = requests.lock().unwrap().clone();
    let last = requests.last().unwrap().1["messages"]
        .as_array()
        .unwrap()
        .clone();
    let roles: Vec<&str> = last.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "user"],
        "system, a window of 2, the new message"
    );
    assert_eq!(last[1]["content"], "two");
}

#[tokio::test]
async fn a_model_that_errors_falls_back_to_the_builtin_engine_with_a_notice() {
    let (app, _requests) = app_with(Model::Errors).await;
    let mut chat = Chat::new(&app, "llm-error").await;
    let said = chat.say("Add a task to buy groceries").await;
    assert!(
        said.response().contains("built-in assistant"),
        "a notice: {}",
        said.response()
    );
    assert_eq!(said.tools(), ["add_task"], "the built-in engine acted");
    assert_eq!(chat.titles().await, ["Buy groceries"]);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("chat_llm_fallbacks_total"),
        "the fallback is counted"
    );
    assert!(metrics.contains("chat_turns_total{engine=\"openai\",outcome=\"fallback\"}"));
}

#[tokio::test]
async fn a_model_that_hangs_times_out_and_falls_back() {
    let (app, _requests) = app_with(Model::Hangs).await;
    let mut chat = Chat::new(&app, "llm-hang").await;
    let said = chat.say("What's pending?").await;
    assert!(
        said.response().contains("built-in assistant"),
        "{}",
        said.response()
    );
    assert_eq!(said.tools(), ["list_tasks"]);
}

#[tokio::test]
async fn a_model_that_never_stops_calling_tools_is_cut_off_after_the_step_limit() {
    let (app, requests) = app_with(Model::NeverStops).await;
    let mut chat = Chat::new(&app, "llm-loop").await;
    let said = chat.say("show my tasks").await;
    assert_eq!(
        said.tools(),
        ["list_tasks", "list_tasks"],
        "CHAT_MAX_TOOL_STEPS=2 rounds of tools"
    );
    let requests = requests.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        3,
        "two rounds with tools, one final call without"
    );
    assert!(
        requests[2].1.get("tools").is_none(),
        "the last call offers no tools"
    );
    assert!(!said.response().is_empty());
}
