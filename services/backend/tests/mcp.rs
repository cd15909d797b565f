//! The MCP server at `/mcp`, driven by rmcp's own client over real HTTP: tools listed with
//! schemas, each tool called, results and errors as the contract says, refusals without a
//! token and for another user's `user_id`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Map, Value, json};
use todo_testkit::{Backend, TestApp, TestUser};

type Client = RunningService<RoleClient, ()>;

async fn app_and_user(name: &str) -> (TestApp, TestUser) {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let user = app.sign_up(&format!("{name}@example.com")).await;
    (app, user)
}

async fn connect(app: &TestApp, token: Option<&str>) -> Result<Client, String> {
    todo_service_kit::tls::install_provider();
    let mut config = StreamableHttpClientTransportConfig::with_uri(app.url("/mcp"));
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.map_err(|e| e.to_string())
}

fn arguments(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("arguments must be an object, not {other}"),
    }
}

/// Calls a tool; returns whether it was an error and its JSON text parsed.
async fn call(client: &Client, tool: &'static str, args: Value) -> (bool, Value) {
    let result: CallToolResult = client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments(args)))
        .await
        .unwrap_or_else(|e| panic!("{tool} call failed at the protocol level: {e}"));
    let block = result.content.first().expect("one content block");
    let text = block
        .as_text()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| panic!("{tool}: {block:?}"));
    (
        result.is_error.unwrap_or(false),
        serde_json::from_str(&text).expect("the text is JSON"),
    )
}

#[tokio::test]
async fn the_five_tools_are_listed_with_their_json_schemas() {
    let (app, user) = app_and_user("lister").await;
    let client = connect(&app, Some(&user.token)).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "add_task",
            "list_tasks",
            "complete_task",
            "delete_task",
            "update_task"
        ]
    );
    for tool in &tools {
        assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
        let required = tool.input_schema["required"].as_array().unwrap();
        assert!(
            required.contains(&json!("user_id")),
            "{} requires user_id",
            tool.name
        );
        assert!(
            tool.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{} is described",
            tool.name
        );
    }
    let add = &tools[0].input_schema;
    assert_eq!(add["required"], json!(["user_id", "title"]));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn each_tool_works_and_answers_as_the_contract_says() {
    let (app, user) = app_and_user("caller").await;
    let client = connect(&app, Some(&user.token)).await.unwrap();
    let me = user.id.as_str();

    let (error, added) = call(
        &client,
        "add_task",
        json!({"user_id": me, "title": "Buy milk", "description": "2 litres"}),
    )
    .await;
    assert!(!error);
    let id = added["task_id"].as_i64().unwrap();
    assert_eq!(
        added,
        json!({"task_id": id, "status": "created", "title": "Buy milk"})
    );

    let (_, listed) = call(&client, "list_tasks", json!({"user_id": me})).await;
    assert_eq!(
        listed,
        json!([{"id": id, "title": "Buy milk", "completed": false}])
    );

    let (_, updated) = call(
        &client,
        "update_task",
        json!({"user_id": me, "task_id": id, "title": "Buy oat milk", "description": ""}),
    )
    .await;
    assert_eq!(
        updated,
        json!({"task_id": id, "status": "updated", "title": "Buy oat milk"})
    );
    let task = todo_backend::db::tasks::get(&app.db, me, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.description, None, "an empty description cleared it");
    assert!(task.updated_at > task.created_at, "updated_at moved");

    let (_, completed) = call(
        &client,
        "complete_task",
        json!({"user_id": me, "task_id": id}),
    )
    .await;
    assert_eq!(
        completed,
        json!({"task_id": id, "status": "completed", "title": "Buy oat milk"})
    );
    let (_, again) = call(
        &client,
        "complete_task",
        json!({"user_id": me, "task_id": id}),
    )
    .await;
    assert_eq!(
        again,
        json!({"task_id": id, "status": "completed", "title": "Buy oat milk", "already_completed": true}),
        "completing it again says it was complete already"
    );
    let (_, pending) = call(
        &client,
        "list_tasks",
        json!({"user_id": me, "status": "pending"}),
    )
    .await;
    assert_eq!(pending, json!([]), "nothing pending");
    let (_, done) = call(
        &client,
        "list_tasks",
        json!({"user_id": me, "status": "completed"}),
    )
    .await;
    assert_eq!(done[0]["completed"], true);

    let (_, deleted) = call(
        &client,
        "delete_task",
        json!({"user_id": me, "task_id": id}),
    )
    .await;
    assert_eq!(
        deleted,
        json!({"task_id": id, "status": "deleted", "title": "Buy oat milk"})
    );
    let (error, missing) = call(
        &client,
        "delete_task",
        json!({"user_id": me, "task_id": id}),
    )
    .await;
    assert!(error, "a missing task is a tool error");
    assert_eq!(missing, json!({"error": "Task not found"}));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_that_say_what_is_wrong() {
    let (app, user) = app_and_user("clumsy").await;
    let client = connect(&app, Some(&user.token)).await.unwrap();
    let (error, reply) = call(&client, "add_task", json!({"user_id": user.id})).await;
    assert!(error);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("missing field `title`"),
        "{reply}"
    );
    let (error, reply) = call(
        &client,
        "add_task",
        json!({"user_id": user.id, "title": "  "}),
    )
    .await;
    assert!(error);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("title must not be empty"),
        "{reply}"
    );
    let (error, reply) = call(
        &client,
        "list_tasks",
        json!({"user_id": user.id, "status": "someday"}),
    )
    .await;
    assert!(error, "{reply}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn another_users_id_or_task_is_refused() {
    let (app, ada) = app_and_user("ada-mcp").await;
    let bob = app.sign_up("bob-mcp@example.com").await;
    let adas_task = {
        let client = connect(&app, Some(&ada.token)).await.unwrap();
        let (_, added) = call(
            &client,
            "add_task",
            json!({"user_id": ada.id, "title": "Ada's secret"}),
        )
        .await;
        client.cancel().await.unwrap();
        added["task_id"].as_i64().unwrap()
    };
    let client = connect(&app, Some(&bob.token)).await.unwrap();
    let (error, reply) = call(&client, "list_tasks", json!({"user_id": ada.id})).await;
    assert!(error, "bob cannot act as ada");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("not the authenticated user"),
        "{reply}"
    );
    let (error, reply) = call(
        &client,
        "delete_task",
        json!({"user_id": bob.id, "task_id": adas_task}),
    )
    .await;
    assert!(error);
    assert_eq!(
        reply,
        json!({"error": "Task not found"}),
        "ada's task does not exist for bob"
    );
    client.cancel().await.unwrap();
    let kept = todo_backend::db::tasks::get(&app.db, &ada.id, adas_task)
        .await
        .unwrap();
    assert!(kept.is_some(), "ada's task is still there");
}

#[tokio::test]
async fn mcp_without_a_valid_token_is_401() {
    let (app, _user) = app_and_user("anonymous").await;
    let error = connect(&app, None).await.expect_err("no token, no session");
    assert!(error.to_lowercase().contains("auth required"), "{error}");
    let error = connect(&app, Some("not-a-jwt"))
        .await
        .expect_err("a bad token is refused");
    assert!(error.to_lowercase().contains("auth required"), "{error}");

    let raw = app
        .client
        .post(app.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert_eq!(raw.headers()["www-authenticate"], "Bearer");
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized", "the REST API's error shape");
}

#[tokio::test]
async fn a_plain_json_rpc_post_lists_the_tools_without_a_session() {
    let (app, user) = app_and_user("curl").await;
    let response = app
        .client
        .post(app.url("/mcp"))
        .header("authorization", user.bearer())
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("a tool list: {body}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
}

#[tokio::test]
async fn an_oversized_mcp_body_gets_the_apis_json_413_after_it_is_read() {
    let (app, user) = app_and_user("big").await;
    // 12 MiB sent whole before the answer is read: more than the socket buffers take in, so a
    // server that closed the connection without reading the rest would reset the upload.
    let mut body = br#"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add_task", "arguments": {"title": ""#.to_vec();
    body.resize(12 * 1024 * 1024, b'x');
    body.extend_from_slice(br#""}}}"#);
    let response = app
        .client
        .post(app.url("/mcp"))
        .header("authorization", user.bearer())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .expect("the 413, not a reset connection");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["code"], "payload_too_large",
        "the REST API's error shape: {body}"
    );
}
