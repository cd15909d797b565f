//! The tools' names, descriptions and input JSON schemas, generated from the input types, for
//! the MCP tool list and the LLM's function definitions alike.

use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::{Map, Value};

use super::{AddTaskInput, ListTasksInput, TaskIdInput, ToolName, UpdateTaskInput};

/// One tool as both the MCP server and the LLM see it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: ToolName,
    pub description: &'static str,
    /// A JSON Schema (draft 2020-12) object for the arguments.
    pub input_schema: Map<String, Value>,
}

fn schema_of<T: JsonSchema>() -> Map<String, Value> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    match schema.to_value() {
        Value::Object(mut object) => {
            // The title is the Rust type's name; the tool's name says it better.
            object.remove("title");
            object
        }
        _ => Map::new(),
    }
}

/// Every tool, in a stable order.
pub fn specs() -> Vec<ToolSpec> {
    ToolName::ALL
        .into_iter()
        .map(|name| {
            let (description, input_schema) = match name {
                ToolName::AddTask => (
                    "Create a new task for the user. Returns {task_id, status: \"created\", title}.",
                    schema_of::<AddTaskInput>(),
                ),
                ToolName::ListTasks => (
                    "List the user's tasks, optionally only pending or completed ones. Returns \
                     [{id, title, completed}], oldest first.",
                    schema_of::<ListTasksInput>(),
                ),
                ToolName::CompleteTask => (
                    "Mark one of the user's tasks as complete. Returns {task_id, status: \
                     \"completed\", title}, or {error: \"Task not found\"}.",
                    schema_of::<TaskIdInput>(),
                ),
                ToolName::DeleteTask => (
                    "Delete one of the user's tasks. Returns {task_id, status: \"deleted\", \
                     title}, or {error: \"Task not found\"}.",
                    schema_of::<TaskIdInput>(),
                ),
                ToolName::UpdateTask => (
                    "Change the title and/or description of one of the user's tasks; an empty \
                     description clears it. Returns {task_id, status: \"updated\", title}, or \
                     {error: \"Task not found\"}.",
                    schema_of::<UpdateTaskInput>(),
                ),
            };
            ToolSpec { name, description, input_schema }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_schema_is_an_object_that_requires_the_user_id() {
        for spec in specs() {
            assert_eq!(
                spec.input_schema["type"],
                "object",
                "{}",
                spec.name.as_str()
            );
            let required = spec.input_schema["required"].as_array().unwrap();
            assert!(
                required.iter().any(|r| r == "user_id"),
                "{} must require user_id: {required:?}",
                spec.name.as_str()
            );
        }
    }

    #[test]
    fn optional_fields_are_not_required() {
        let update = specs()
            .into_iter()
            .find(|s| s.name == ToolName::UpdateTask)
            .unwrap();
        let required: Vec<&str> = update.input_schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, ["user_id", "task_id"]);
        let properties = update.input_schema["properties"].as_object().unwrap();
        assert!(properties.contains_key("title") && properties.contains_key("description"));
    }
}
