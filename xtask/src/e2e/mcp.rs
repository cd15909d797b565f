//! The MCP scenario: rmcp's own client, over Streamable HTTP through the frontend's `/mcp`,
//! lists the five tools and calls each with a user's token, checked by the effect on the task
//! API; a client without a token, and a user acting as another, are refused.

use anyhow::{Context, bail, ensure};
use rmcp::{
    RoleClient, ServiceExt,
    model::CallToolRequestParams,
    service::RunningService,
    transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use serde_json::{Map, Value, json};

use super::client::Stack;

type Client = RunningService<RoleClient, ()>;

const TOOLS: [&str; 5] = [
    "add_task",
    "list_tasks",
    "complete_task",
    "delete_task",
    "update_task",
];

/// The longest the scenario may take (rmcp's transport has no deadline of its own).
const WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn mcp(stack: &Stack) -> anyhow::Result<()> {
    tokio::time::timeout(WITHIN, steps(stack))
        .await
        .with_context(|| {
            format!(
                "the MCP scenario did not finish within {} s",
                WITHIN.as_secs()
            )
        })?
}

async fn steps(stack: &Stack) -> anyhow::Result<()> {
    let ada = stack.sign_up("mcp-ada").await?;
    let bob = stack.sign_up("mcp-bob").await?;
    let client = connect(stack, Some(&ada.token)).await?;
    let listed = client.list_all_tools().await.context("tools/list")?;
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
    ensure!(
        names == TOOLS,
        "the tools listed are {names:?}, not {TOOLS:?}"
    );

    let added = call(
        &client,
        "add_task",
        json!({"user_id": ada.id, "title": "Water the plants"}),
    )
    .await?;
    let task = added["task_id"]
        .as_i64()
        .with_context(|| format!("add_task gave no task_id: {added}"))?;
    let tasks = stack.tasks(&ada, "?status=all").await?;
    ensure!(
        tasks
            .iter()
            .any(|t| t["id"] == task && t["title"] == "Water the plants"),
        "the task MCP added is not in the task API: {tasks:?}"
    );
    let listed = call(
        &client,
        "list_tasks",
        json!({"user_id": ada.id, "status": "pending"}),
    )
    .await?;
    ensure!(
        listed
            .as_array()
            .is_some_and(|a| a.iter().any(|t| t["id"] == task)),
        "list_tasks does not show task {task}: {listed}"
    );
    call(
        &client,
        "update_task",
        json!({"user_id": ada.id, "task_id": task, "title": "Water the garden"}),
    )
    .await?;
    call(
        &client,
        "complete_task",
        json!({"user_id": ada.id, "task_id": task}),
    )
    .await?;
    let tasks = stack.tasks(&ada, "?status=completed").await?;
    ensure!(
        tasks
            .iter()
            .any(|t| t["id"] == task && t["title"] == "Water the garden"),
        "update_task and complete_task did not reach the task API: {tasks:?}"
    );
    call(
        &client,
        "delete_task",
        json!({"user_id": ada.id, "task_id": task}),
    )
    .await?;
    ensure!(
        stack
            .tasks(&ada, "?status=all")
            .await?
            .iter()
            .all(|t| t["id"] != task),
        "delete_task left task {task} in the task API"
    );
    client.cancel().await.context("closing the MCP session")?;

    let kept = call(
        &connect(stack, Some(&ada.token)).await?,
        "add_task",
        json!({"user_id": ada.id, "title": "Ada's own"}),
    )
    .await?;
    let bobs = connect(stack, Some(&bob.token)).await?;
    let (error, reply) = call_raw(&bobs, "list_tasks", json!({"user_id": ada.id})).await?;
    ensure!(
        error
            && reply["error"]
                .as_str()
                .is_some_and(|e| e.contains("not the authenticated user")),
        "bob acting as ada was not refused: {reply}"
    );
    let (error, reply) = call_raw(
        &bobs,
        "delete_task",
        json!({"user_id": bob.id, "task_id": kept["task_id"]}),
    )
    .await?;
    ensure!(
        error && reply == json!({"error": "Task not found"}),
        "bob reached ada's task: {reply}"
    );
    bobs.cancel().await.context("closing the MCP session")?;

    match connect(stack, None).await {
        Ok(_) => bail!("an MCP client without a token was let in"),
        Err(err) => ensure!(
            format!("{err:#}").to_lowercase().contains("auth required"),
            "a client without a token was refused for another reason: {err:#}"
        ),
    }
    Ok(())
}

async fn connect(stack: &Stack, token: Option<&str>) -> anyhow::Result<Client> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(stack.url("/mcp"));
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {}/mcp: {e}", stack.base))
}

/// Calls a tool that must succeed; returns its JSON result.
async fn call(client: &Client, tool: &'static str, args: Value) -> anyhow::Result<Value> {
    let (error, value) = call_raw(client, tool, args).await?;
    ensure!(!error, "{tool} failed: {value}");
    Ok(value)
}

/// Calls a tool; returns whether it reported an error, and its JSON text parsed.
async fn call_raw(
    client: &Client,
    tool: &'static str,
    args: Value,
) -> anyhow::Result<(bool, Value)> {
    let Value::Object(arguments) = args else {
        bail!("the arguments of {tool} must be an object");
    };
    let arguments: Map<String, Value> = arguments;
    let result = client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .with_context(|| format!("calling {tool}"))?;
    let text = result
        .content
        .first()
        .and_then(|block| block.as_text())
        .map(|t| t.text.clone())
        .with_context(|| format!("{tool} returned no text"))?;
    let value = serde_json::from_str(&text)
        .with_context(|| format!("{tool} returned {text:?}, not JSON"))?;
    Ok((result.is_error.unwrap_or(false), value))
}
