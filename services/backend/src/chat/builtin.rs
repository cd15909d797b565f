//! The built-in engine: `todo-nlu` reads the message, the tools act, the replies module words
//! the answer. No network, no key, deterministic. A task named by words costs one extra
//! `list_tasks` call (recorded like any other) so the engine can see which task is meant.

use todo_nlu::{Action, Change, HelpTopic, Intent, Plan, Reference, TaskSnapshot};

use super::{
    engine::{ChatEngine, Reply, ToolRecorder, Turn},
    replies,
};
use crate::{
    db::{
        DbError,
        conversations::{Message, Role},
    },
    tools::{
        self, AddTaskInput, ListTasksInput, StatusArg, TaskIdInput, ToolName, UpdateTaskInput,
    },
};

/// The deterministic engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinEngine;

impl ChatEngine for BuiltinEngine {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn respond(&self, turn: Turn<'_>) -> Result<Reply, DbError> {
        let mut recorder = ToolRecorder::new(turn.db, turn.user_id);
        let intent = todo_nlu::understand(turn.message);
        let intent = with_previous_task(intent, last_mentioned_task(turn.history));
        let response = answer(&mut recorder, intent).await?;
        Ok(Reply {
            response,
            tool_calls: recorder.calls,
            fell_back: false,
        })
    }
}

fn status_arg(status: todo_nlu::StatusFilter) -> StatusArg {
    match status {
        todo_nlu::StatusFilter::All => StatusArg::All,
        todo_nlu::StatusFilter::Pending => StatusArg::Pending,
        todo_nlu::StatusFilter::Completed => StatusArg::Completed,
    }
}

/// The one task the last reply named ("Added task 7: …"), for "mark it as done".
fn last_mentioned_task(history: &[Message]) -> Option<i64> {
    let reply = history.iter().rev().find(|m| m.role == Role::Assistant)?;
    let mut ids: Vec<i64> = reply
        .content
        .split("task ")
        .skip(1)
        .filter_map(|after| {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    ids.dedup();
    match ids.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// Replaces "it" with the task the conversation was just about, or asks which task.
fn with_previous_task(intent: Intent, previous: Option<i64>) -> Intent {
    let settle = |target: Reference, action: Action| match (target, previous) {
        (Reference::Previous, Some(id)) => Ok(Reference::Id(id)),
        (Reference::Previous, None) => Err(Intent::Help(HelpTopic::MissingTarget(action))),
        (other, _) => Ok(other),
    };
    match intent {
        Intent::Complete { target } => settle(target, Action::Complete)
            .map_or_else(|help| help, |target| Intent::Complete { target }),
        Intent::Delete { target } => settle(target, Action::Delete)
            .map_or_else(|help| help, |target| Intent::Delete { target }),
        Intent::Update { readings } => {
            let settled: Vec<_> = readings
                .into_iter()
                .filter_map(|mut reading| {
                    reading.target = settle(reading.target, Action::Update).ok()?;
                    Some(reading)
                })
                .collect();
            if settled.is_empty() {
                Intent::Help(HelpTopic::MissingTarget(Action::Update))
            } else {
                Intent::Update { readings: settled }
            }
        }
        other => other,
    }
}

async fn answer(recorder: &mut ToolRecorder<'_>, intent: Intent) -> Result<String, DbError> {
    let plan = if intent.needs_snapshot() {
        let input = ListTasksInput {
            user_id: recorder.caller().to_owned(),
            status: None,
        };
        let listed = recorder
            .call(ToolName::ListTasks, input, |db, caller, input| async move {
                tools::list_tasks(db, caller, &input).await
            })
            .await?
            .unwrap_or_default();
        let snapshot: Vec<TaskSnapshot> = listed
            .into_iter()
            .map(|t| TaskSnapshot {
                id: t.id,
                title: t.title,
                completed: t.completed,
            })
            .collect();
        todo_nlu::plan(&intent, &snapshot)
    } else {
        plan_by_id(intent)
    };
    act(recorder, plan).await
}

/// The plan for an intent that names its task by id (or names none): the tool itself will say
/// whether the task exists.
fn plan_by_id(intent: Intent) -> Plan {
    match intent {
        Intent::Add { title, description } => Plan::Add { title, description },
        Intent::List { status } => Plan::List { status },
        Intent::Help(topic) => Plan::Help(topic),
        Intent::Complete {
            target: Reference::Id(task_id),
        } => Plan::Complete { task_id },
        Intent::Delete {
            target: Reference::Id(task_id),
        } => Plan::Delete { task_id },
        Intent::Update { mut readings } if !readings.is_empty() => {
            let reading = readings.remove(0);
            match reading.target {
                Reference::Id(task_id) => Plan::Update {
                    task_id,
                    change: reading.change,
                },
                other => Plan::NotFound {
                    action: Action::Update,
                    reference: other,
                },
            }
        }
        Intent::Update { .. } => Plan::Help(HelpTopic::MissingChange),
        Intent::Complete { target } => Plan::NotFound {
            action: Action::Complete,
            reference: target,
        },
        Intent::Delete { target } => Plan::NotFound {
            action: Action::Delete,
            reference: target,
        },
    }
}

async fn act(recorder: &mut ToolRecorder<'_>, plan: Plan) -> Result<String, DbError> {
    let user_id = recorder.caller().to_owned();
    Ok(match plan {
        Plan::Add { title, description } => {
            let input = AddTaskInput {
                user_id,
                title,
                description,
            };
            let result = recorder
                .call(ToolName::AddTask, input, |db, caller, input| async move {
                    tools::add_task(db, caller, &input).await
                })
                .await?;
            replies::added(&result)
        }
        Plan::List { status } => {
            let input = ListTasksInput {
                user_id,
                status: Some(status_arg(status)),
            };
            let result = recorder
                .call(ToolName::ListTasks, input, |db, caller, input| async move {
                    tools::list_tasks(db, caller, &input).await
                })
                .await?;
            replies::listed(status, &result)
        }
        Plan::Complete { task_id } => {
            let input = TaskIdInput { user_id, task_id };
            let result =
                recorder
                    .call(
                        ToolName::CompleteTask,
                        input,
                        |db, caller, input| async move {
                            tools::complete_task(db, caller, &input).await
                        },
                    )
                    .await?;
            replies::acted(Action::Complete, task_id, &result)
        }
        Plan::Delete { task_id } => {
            let input = TaskIdInput { user_id, task_id };
            let result = recorder
                .call(
                    ToolName::DeleteTask,
                    input,
                    |db, caller, input| async move { tools::delete_task(db, caller, &input).await },
                )
                .await?;
            replies::acted(Action::Delete, task_id, &result)
        }
        Plan::Update { task_id, change } => {
            let Change { title, description } = change.clone();
            let input = UpdateTaskInput {
                user_id,
                task_id,
                title,
                description,
            };
            let result = recorder
                .call(
                    ToolName::UpdateTask,
                    input,
                    |db, caller, input| async move { tools::update_task(db, caller, &input).await },
                )
                .await?;
            replies::updated(task_id, &change, &result)
        }
        Plan::Ambiguous {
            action,
            reference,
            candidates,
        } => replies::ambiguous(action, &reference, &candidates),
        Plan::NotFound { action, reference } => replies::not_found(action, &reference),
        Plan::Help(topic) => replies::help(topic),
    })
}
