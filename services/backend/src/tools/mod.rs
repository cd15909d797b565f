//! The five task tools (`add_task`, `list_tasks`, `complete_task`, `delete_task`,
//! `update_task`), written once over the tasks repository. The chat engines call them
//! in-process; the MCP server serves them; both describe them with the JSON schemas of the
//! input types here.
//!
//! Every call is made on behalf of an authenticated caller: a `user_id` argument that is not
//! the caller's is refused, and a task of someone else's is "Task not found".

mod schema;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use schema::{ToolSpec, specs};

use crate::db::{
    Database, DbError,
    tasks::{self, ListOptions, NewTask, StatusFilter, Task, TaskChanges},
};

/// The error of a tool that ran but could not do what was asked; sent to the caller as
/// `{"error": "<message>"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

impl ToolError {
    pub fn task_not_found() -> Self {
        Self("Task not found".into())
    }
}

/// What a tool call returns: the tool's result, a refusal, or a fault of the database (which
/// the caller turns into its own 5xx).
pub type ToolResult<T> = Result<Result<T, ToolError>, DbError>;

/// Input of `add_task`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AddTaskInput {
    /// The id of the user the task is for: the authenticated user.
    pub user_id: String,
    /// The task's title, 1–200 characters.
    pub title: String,
    /// Optional longer description, at most 1000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Which tasks `list_tasks` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusArg {
    #[default]
    All,
    Pending,
    Completed,
}

/// Input of `list_tasks`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ListTasksInput {
    /// The id of the user whose tasks to list: the authenticated user.
    pub user_id: String,
    /// `all` (default), `pending` or `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusArg>,
}

/// Input of `complete_task` and `delete_task`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TaskIdInput {
    /// The id of the user who owns the task: the authenticated user.
    pub user_id: String,
    /// The task's id.
    #[serde(deserialize_with = "crate::whole_number::required")]
    pub task_id: i64,
}

/// Input of `update_task`: absent fields stay as they are; an empty description clears it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UpdateTaskInput {
    /// The id of the user who owns the task: the authenticated user.
    pub user_id: String,
    /// The task's id.
    #[serde(deserialize_with = "crate::whole_number::required")]
    pub task_id: i64,
    /// A new title, 1–200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A new description, at most 1000 characters; an empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What `add_task`, `complete_task`, `delete_task` and `update_task` return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskOutcome {
    pub task_id: i64,
    /// `created`, `completed`, `deleted` or `updated`.
    pub status: String,
    pub title: String,
    /// Present (and `true`) only when `complete_task` found the task completed already: nothing
    /// changed, and a reply can say so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already_completed: bool,
}

/// One entry of what `list_tasks` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskSummary {
    pub id: i64,
    pub title: String,
    pub completed: bool,
}

fn outcome(task: Task, status: &str) -> TaskOutcome {
    TaskOutcome {
        task_id: task.id,
        status: status.to_owned(),
        title: task.title,
        already_completed: false,
    }
}

fn check_caller(caller: &str, user_id: &str) -> Result<(), ToolError> {
    if caller == user_id {
        Ok(())
    } else {
        Err(ToolError(format!(
            "user_id `{user_id}` is not the authenticated user; tools act only on the caller's \
             own tasks (user_id `{caller}`)"
        )))
    }
}

/// Creates a task.
pub async fn add_task(
    db: &Database,
    caller: &str,
    input: &AddTaskInput,
) -> ToolResult<TaskOutcome> {
    if let Err(refusal) = check_caller(caller, &input.user_id) {
        return Ok(Err(refusal));
    }
    let new = match NewTask::new(&input.title, input.description.as_deref()) {
        Ok(new) => new,
        Err(invalid) => return Ok(Err(ToolError(invalid.0))),
    };
    let task = tasks::create(db, caller, &new).await?;
    Ok(Ok(outcome(task, "created")))
}

/// Lists tasks, oldest first.
pub async fn list_tasks(
    db: &Database,
    caller: &str,
    input: &ListTasksInput,
) -> ToolResult<Vec<TaskSummary>> {
    if let Err(refusal) = check_caller(caller, &input.user_id) {
        return Ok(Err(refusal));
    }
    let status = match input.status.unwrap_or_default() {
        StatusArg::All => StatusFilter::All,
        StatusArg::Pending => StatusFilter::Pending,
        StatusArg::Completed => StatusFilter::Completed,
    };
    let options = ListOptions {
        status,
        ..ListOptions::default()
    };
    let found = tasks::list(db, caller, options).await?;
    Ok(Ok(found
        .into_iter()
        .map(|t| TaskSummary {
            id: t.id,
            title: t.title,
            completed: t.completed,
        })
        .collect()))
}

/// Marks a task completed. A task completed already is left as it is (its `updated_at` does not
/// move) and the outcome says `already_completed`.
pub async fn complete_task(
    db: &Database,
    caller: &str,
    input: &TaskIdInput,
) -> ToolResult<TaskOutcome> {
    if let Err(refusal) = check_caller(caller, &input.user_id) {
        return Ok(Err(refusal));
    }
    let Some(before) = tasks::get(db, caller, input.task_id).await? else {
        return Ok(Err(ToolError::task_not_found()));
    };
    if before.completed {
        return Ok(Ok(TaskOutcome {
            already_completed: true,
            ..outcome(before, "completed")
        }));
    }
    Ok(tasks::set_completed(db, caller, input.task_id, true)
        .await?
        .map(|task| outcome(task, "completed"))
        .ok_or_else(ToolError::task_not_found))
}

/// Deletes a task.
pub async fn delete_task(
    db: &Database,
    caller: &str,
    input: &TaskIdInput,
) -> ToolResult<TaskOutcome> {
    if let Err(refusal) = check_caller(caller, &input.user_id) {
        return Ok(Err(refusal));
    }
    Ok(tasks::delete(db, caller, input.task_id)
        .await?
        .map(|task| outcome(task, "deleted"))
        .ok_or_else(ToolError::task_not_found))
}

/// Changes a task's title and/or description.
pub async fn update_task(
    db: &Database,
    caller: &str,
    input: &UpdateTaskInput,
) -> ToolResult<TaskOutcome> {
    if let Err(refusal) = check_caller(caller, &input.user_id) {
        return Ok(Err(refusal));
    }
    if input.title.is_none() && input.description.is_none() {
        return Ok(Err(ToolError(
            "nothing to update: give a new title, a new description, or both".into(),
        )));
    }
    let description = input.description.as_deref().map(Some);
    let changes = match TaskChanges::new(input.title.as_deref(), description, None) {
        Ok(changes) => changes,
        Err(invalid) => return Ok(Err(ToolError(invalid.0))),
    };
    Ok(tasks::update(db, caller, input.task_id, &changes)
        .await?
        .map(|task| outcome(task, "updated"))
        .ok_or_else(ToolError::task_not_found))
}

/// The five tools by name, for callers that hold JSON (the MCP server, the LLM agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolName {
    AddTask,
    ListTasks,
    CompleteTask,
    DeleteTask,
    UpdateTask,
}

impl ToolName {
    pub const ALL: [Self; 5] = [
        Self::AddTask,
        Self::ListTasks,
        Self::CompleteTask,
        Self::DeleteTask,
        Self::UpdateTask,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddTask => "add_task",
            Self::ListTasks => "list_tasks",
            Self::CompleteTask => "complete_task",
            Self::DeleteTask => "delete_task",
            Self::UpdateTask => "update_task",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.as_str() == name)
    }
}

/// A tool call's JSON output, and whether the tool succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOutcome {
    pub output: Value,
    pub succeeded: bool,
}

impl JsonOutcome {
    fn from<T: Serialize>(result: Result<T, ToolError>) -> Self {
        match result.map(|value| serde_json::to_value(value)) {
            Ok(Ok(output)) => Self {
                output,
                succeeded: true,
            },
            Ok(Err(unserialisable)) => {
                Self::error(&format!("cannot encode the result: {unserialisable}"))
            }
            Err(refusal) => Self::error(&refusal.0),
        }
    }

    pub fn error(message: &str) -> Self {
        Self {
            output: json!({ "error": message }),
            succeeded: false,
        }
    }
}

fn arguments<T: serde::de::DeserializeOwned>(
    tool: ToolName,
    arguments: Value,
) -> Result<T, ToolError> {
    let arguments = if arguments.is_null() {
        json!({})
    } else {
        arguments
    };
    serde_json::from_value(arguments)
        .map_err(|e| ToolError(format!("invalid arguments for {}: {e}", tool.as_str())))
}

/// Runs a tool from its name and JSON arguments.
pub async fn call_json(
    db: &Database,
    caller: &str,
    name: &str,
    input: Value,
) -> Result<JsonOutcome, DbError> {
    let Some(tool) = ToolName::parse(name) else {
        let known: Vec<&str> = ToolName::ALL.iter().map(|t| t.as_str()).collect();
        return Ok(JsonOutcome::error(&format!(
            "unknown tool `{name}`; the tools are {}",
            known.join(", ")
        )));
    };
    macro_rules! run {
        ($function:ident) => {
            match arguments(tool, input) {
                Ok(parsed) => JsonOutcome::from($function(db, caller, &parsed).await?),
                Err(invalid) => JsonOutcome::error(&invalid.0),
            }
        };
    }
    Ok(match tool {
        ToolName::AddTask => run!(add_task),
        ToolName::ListTasks => run!(list_tasks),
        ToolName::CompleteTask => run!(complete_task),
        ToolName::DeleteTask => run!(delete_task),
        ToolName::UpdateTask => run!(update_task),
    })
}
