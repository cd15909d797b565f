//! The repositories the chat and MCP layers call directly, on both databases.

use chrono::{DateTime, TimeZone, Utc};
use todo_backend::db::{
    Database,
    conversations::{self, Role},
    tasks::{self, ListOptions, NewTask, SortKey, SortOrder, StatusFilter, TaskChanges},
};

use crate::helpers::*;

/// Sets a task's two timestamps directly, as the API would have written them at `at`.
async fn stamp(db: &Database, id: i64, at: DateTime<Utc>) {
    let sql = "UPDATE tasks SET created_at = $1, updated_at = $1 WHERE id = $2";
    let changed = match db {
        Database::Postgres { pool, .. } => sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
        Database::Sqlite { writer, .. } => sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(writer)
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(changed, 1);
}

on_both_databases! {
    async fn the_listing_json_is_exactly_the_serialised_tasks(app) {
        let db = &app.db;
        // Whole seconds, milliseconds and microseconds: chrono writes each differently.
        let times = [
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            Utc.timestamp_micros(1_767_322_800_123_000).unwrap(),
            Utc.timestamp_micros(1_767_322_800_123_456).unwrap(),
        ];
        for (n, at) in times.into_iter().enumerate() {
            let title = format!("T\u{e9}sk {n} \"quoted\" \\ \n\u{1F389}\u{1}");
            let description = (n != 1).then(|| format!("line\tone\u{2028}{n}"));
            let task = tasks::create(db, "ada", &NewTask::new(&title, description.as_deref()).unwrap()).await.unwrap();
            if n == 0 {
                let done = TaskChanges::new(None, None, Some(true)).unwrap();
                tasks::update(db, "ada", task.id, &done).await.unwrap();
            }
            stamp(db, task.id, at).await;
        }
        tasks::create(db, "bob", &NewTask::new("not ada's", None).unwrap()).await.unwrap();
        for status in [StatusFilter::All, StatusFilter::Pending, StatusFilter::Completed] {
            for sort in [SortKey::Created, SortKey::Title, SortKey::Updated] {
                for order in [SortOrder::Asc, SortOrder::Desc] {
                    let options = ListOptions { status, sort, order };
                    let typed = serde_json::to_string(&tasks::list(db, "ada", options).await.unwrap()).unwrap();
                    let listing = tasks::list_as_json(db, "ada", options).await.unwrap();
                    let as_values = |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap();
                    // Equal as JSON values, so every string (the timestamps too) is the same;
                    // only how the strings are escaped may differ.
                    assert_eq!(as_values(std::str::from_utf8(&listing).unwrap()), as_values(&typed), "{options:?}");
                }
            }
        }
        let empty = tasks::list_as_json(db, "nobody", ListOptions::default()).await.unwrap();
        assert_eq!(empty, "[]");
    }

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
