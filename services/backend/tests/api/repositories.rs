//! The repositories the chat and MCP layers call directly, on both databases.

use todo_backend::db::{
    conversations::{self, Role},
    tasks::{self, NewTask, TaskChanges},
};

use crate::helpers::*;

on_both_databases! {
    async fn conversations_keep_messages_in_order_and_per_owner(app) {
        let db = &app.db;
        let first = conversations::create(db, "ada").await.unwrap();
        let second = conversations::create(db, "ada").await.unwrap();
        for n in 1..=5 {
            let role = if n % 2 == 1 { Role::User } else { Role::Assistant };
            let tools = if role == Role::Assistant { vec![serde_json::json!({"tool": "list_tasks", "input": {}, "output": [n]})] } else { vec![] };
            let stored = conversations::append_message(db, "ada", first.id, role, &format!("message {n}"), &tools).await.unwrap();
            let stored = stored.expect("ada owns it");
            assert_eq!(stored.content, format!("message {n}"));
            assert_eq!(stored.tool_calls.0, tools, "a reply's tool calls are stored with it");
        }
        let recent = conversations::recent_messages(db, "ada", first.id, 3).await.unwrap();
        let contents: Vec<&str> = recent.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(contents, ["message 3", "message 4", "message 5"], "the last three, oldest first");
        assert_eq!(recent[0].role, Role::User);
        assert!(recent[0].tool_calls.0.is_empty());
        assert_eq!(recent[1].tool_calls.0[0]["output"], serde_json::json!([4]), "read back as written");
        assert_eq!(conversations::messages(db, "ada", first.id).await.unwrap().len(), 5);

        let listed = conversations::list(db, "ada").await.unwrap();
        assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [first.id, second.id], "most recently active first");
        assert!(listed[0].updated_at > first.updated_at, "appending moves updated_at");

        assert_eq!(conversations::get(db, "bob", first.id).await.unwrap(), None, "bob cannot see it");
        assert_eq!(conversations::append_message(db, "bob", first.id, Role::User, "hi", &[] as &[serde_json::Value]).await.unwrap(), None);
        assert!(conversations::messages(db, "bob", first.id).await.unwrap().is_empty());
        assert_eq!(conversations::messages(db, "ada", first.id).await.unwrap().len(), 5, "bob's attempt stored nothing");
    }

    async fn task_repository_scopes_every_operation_by_owner(app) {
        let db = &app.db;
        let task = tasks::create(db, "ada", &NewTask::new("Pay bills", Some("rent")).unwrap()).await.unwrap();
        assert_eq!(tasks::get(db, "bob", task.id).await.unwrap(), None);
        let changes = TaskChanges::new(Some("hijack"), None, None).unwrap();
        assert_eq!(tasks::update(db, "bob", task.id, &changes).await.unwrap(), None);
        assert_eq!(tasks::toggle(db, "bob", task.id).await.unwrap(), None);
        assert_eq!(tasks::set_completed(db, "bob", task.id, true).await.unwrap(), None);
        assert_eq!(tasks::delete(db, "bob", task.id).await.unwrap(), None);
        let done = tasks::set_completed(db, "ada", task.id, true).await.unwrap().unwrap();
        assert!(done.completed && done.updated_at > task.updated_at);
        let again = tasks::set_completed(db, "ada", task.id, true).await.unwrap().unwrap();
        assert!(again.completed, "completing twice keeps it completed");
        let deleted = tasks::delete(db, "ada", task.id).await.unwrap().expect("ada's task");
        assert_eq!(deleted.title, "Pay bills", "delete returns what was deleted");
        assert_eq!(tasks::get(db, "ada", task.id).await.unwrap(), None);
    }
}
