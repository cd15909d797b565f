//! The tasks repository: every query is scoped by the owner's `user_id`, so another user's
//! task is indistinguishable from a missing one.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Database, DbError, ValidationError, now, on_pool, on_writer};

/// Longest task title, in characters (not bytes).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest task description, in characters (not bytes).
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

const COLUMNS: &str = "id, user_id, title, description, completed, created_at, updated_at";

/// A task as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which tasks a listing returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    #[default]
    All,
    Pending,
    Completed,
}

/// The field a listing is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    #[default]
    Created,
    Title,
    Updated,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// How to list tasks: filter and sort. The default is every task, oldest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ListOptions {
    pub status: StatusFilter,
    pub sort: SortKey,
    pub order: SortOrder,
}

/// A validated title and description for a new task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    title: String,
    description: Option<String>,
}

impl NewTask {
    /// Checks the limits: a title of 1–200 characters as sent and not only blanks (stored
    /// trimmed), a description of at most 1000 characters. A blank description is stored as
    /// none.
    pub fn new(title: &str, description: Option<&str>) -> Result<Self, ValidationError> {
        Ok(Self {
            title: valid_title(title)?,
            description: valid_description(description)?,
        })
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

/// Validated changes to a task: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    title: Option<String>,
    /// `Some(None)` clears the description.
    description: Option<Option<String>>,
    completed: Option<bool>,
}

impl TaskChanges {
    /// Validates the fields that are given. `description: Some(None)` or a blank string clears it.
    pub fn new(
        title: Option<&str>,
        description: Option<Option<&str>>,
        completed: Option<bool>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            title: title.map(valid_title).transpose()?,
            description: description.map(valid_description).transpose()?,
            completed,
        })
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.completed.is_none()
    }
}

/// A title of 1–200 characters as sent, not only blanks; stored trimmed. (The limit counts what
/// was sent, so the OpenAPI document can state it exactly: `maxLength` and a pattern.)
fn valid_title(title: &str) -> Result<String, ValidationError> {
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(ValidationError(format!(
            "title is {chars} characters long; the limit is {MAX_TITLE_CHARS}"
        )));
    }
    let title = title.trim();
    if title.is_empty() {
        return Err(ValidationError(
            "title must not be empty or only blanks; give it a word or two".into(),
        ));
    }
    Ok(title.to_owned())
}

/// At most 1000 characters as sent; a blank one is no description.
fn valid_description(description: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(description) = description else {
        return Ok(None);
    };
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(ValidationError(format!(
            "description is {chars} characters long; the limit is {MAX_DESCRIPTION_CHARS}"
        )));
    }
    Ok((!description.trim().is_empty()).then(|| description.to_owned()))
}

/// Creates a task owned by `user_id`.
pub async fn create(db: &Database, user_id: &str, task: &NewTask) -> Result<Task, DbError> {
    let sql = format!(
        "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at) \
         VALUES ($1, $2, $3, FALSE, $4, $4) RETURNING {COLUMNS}"
    );
    let at = now();
    let created = on_writer!(db, |pool| {
        sqlx::query_as::<_, Task>(&sql)
            .bind(user_id)
            .bind(&task.title)
            .bind(&task.description)
            .bind(at)
            .fetch_one(pool)
            .await
    })?;
    db.count_task_write(user_id);
    metrics::counter!("todo_tasks_created_total").increment(1);
    Ok(created)
}

/// The user's tasks, filtered and sorted (ties broken by id in the same direction).
pub async fn list(
    db: &Database,
    user_id: &str,
    options: ListOptions,
) -> Result<Vec<Task>, DbError> {
    match db {
        Database::Postgres { pool, .. } => list_postgres(pool, user_id, options).await,
        Database::Sqlite { pool, .. } => {
            let listing = list_sqlite_json(pool, user_id, options).await?;
            serde_json::from_str(&listing)
                .map_err(|error| DbError::Other(sqlx::Error::Decode(Box::new(error))))
        }
    }
}

/// [`list`] as the API's JSON array, the same JSON that serialising the [`Task`]s gives.
/// On SQLite the database builds it and it goes to the client as it is, with no parse and
/// re-serialisation in between. Where the database keeps listings, one read at the current
/// version of the user's tasks is served from memory (docs/performance.md has the figures).
pub async fn list_as_json(
    db: &Database,
    user_id: &str,
    options: ListOptions,
) -> Result<Bytes, DbError> {
    let Some(cache) = db.listing_cache() else {
        return render_listing(db, user_id, options).await;
    };
    let version = match db {
        Database::Postgres { pool, .. } => postgres_tasks_version(pool, user_id).await?,
        Database::Sqlite { .. } => cache.local_version(user_id),
    };
    if let Some(kept) = cache.get(user_id, options, version) {
        return Ok(kept);
    }
    let listing = render_listing(db, user_id, options).await?;
    cache.keep(user_id, options, version, listing.clone());
    Ok(listing)
}

/// The listing's JSON, read from the database.
async fn render_listing(
    db: &Database,
    user_id: &str,
    options: ListOptions,
) -> Result<Bytes, DbError> {
    match db {
        Database::Postgres { pool, .. } => {
            let tasks = list_postgres(pool, user_id, options).await?;
            serde_json::to_vec(&tasks)
                .map(Bytes::from)
                .map_err(|error| DbError::Other(sqlx::Error::Decode(Box::new(error))))
        }
        Database::Sqlite { pool, .. } => Ok(list_sqlite_json(pool, user_id, options).await?.into()),
    }
}

/// The version of the user's tasks on PostgreSQL: moved by a trigger on every insert, update
/// and delete of one of them (0 before the first).
async fn postgres_tasks_version(pool: &sqlx::PgPool, user_id: &str) -> Result<u64, DbError> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM task_versions WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    Ok(version.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

async fn list_postgres(
    pool: &sqlx::PgPool,
    user_id: &str,
    options: ListOptions,
) -> Result<Vec<Task>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tasks WHERE user_id = $1{} ORDER BY {}",
        filter_sql(options),
        order_sql(options)
    );
    Ok(sqlx::query_as::<_, Task>(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await?)
}

/// sqlx hands SQLite rows over from its worker thread one at a time, a thread wake-up per row,
/// which dominated a listing's cost: one row holding the whole listing crosses once.
/// Timestamps are stored as sqlx writes a `DateTime<Utc>` (RFC 3339 with `+00:00`); chrono
/// serialises the same instant with `Z`, so the listing says `Z` too.
async fn list_sqlite_json(
    pool: &sqlx::SqlitePool,
    user_id: &str,
    options: ListOptions,
) -> Result<String, DbError> {
    let sql = format!(
        "SELECT json_group_array(json_object(\
           'id', id, 'user_id', user_id, 'title', title, 'description', description, \
           'completed', json(CASE WHEN completed THEN 'true' ELSE 'false' END), \
           'created_at', replace(created_at, '+00:00', 'Z'), \
           'updated_at', replace(updated_at, '+00:00', 'Z')) ORDER BY {}) \
         FROM tasks WHERE user_id = $1{}",
        order_sql(options),
        filter_sql(options)
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(user_id)
        .fetch_one(pool)
        .await?)
}

fn filter_sql(options: ListOptions) -> &'static str {
    match options.status {
        StatusFilter::All => "",
        StatusFilter::Pending => " AND completed = FALSE",
        StatusFilter::Completed => " AND completed = TRUE",
    }
}

fn order_sql(options: ListOptions) -> String {
    let column = match options.sort {
        SortKey::Created => "created_at",
        SortKey::Title => "LOWER(title)",
        SortKey::Updated => "updated_at",
    };
    let direction = match options.order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    format!("{column} {direction}, id {direction}")
}

/// One of the user's tasks; `None` when it does not exist or belongs to someone else.
pub async fn get(db: &Database, user_id: &str, id: i64) -> Result<Option<Task>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2");
    Ok(on_pool!(db, |pool| {
        sqlx::query_as::<_, Task>(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?)
}

/// Applies `changes` and moves `updated_at`; `None` when the task is not the user's.
pub async fn update(
    db: &Database,
    user_id: &str,
    id: i64,
    changes: &TaskChanges,
) -> Result<Option<Task>, DbError> {
    let was_completed = match changes.completed {
        Some(true) => get(db, user_id, id).await?.map(|t| t.completed),
        _ => None,
    };
    let sql = format!(
        "UPDATE tasks SET title = COALESCE($3, title), \
         description = CASE WHEN $4 THEN $5 ELSE description END, \
         completed = COALESCE($6, completed), updated_at = $7 \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    let clear_or_set_description = changes.description.is_some();
    let description = changes.description.clone().flatten();
    let at = now();
    let updated = on_writer!(db, |pool| {
        sqlx::query_as::<_, Task>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(&changes.title)
            .bind(clear_or_set_description)
            .bind(&description)
            .bind(changes.completed)
            .bind(at)
            .fetch_optional(pool)
            .await
    })?;
    db.count_task_write(user_id);
    if was_completed == Some(false) && updated.as_ref().is_some_and(|t| t.completed) {
        metrics::counter!("todo_tasks_completed_total").increment(1);
    }
    Ok(updated)
}

/// Marks the task completed (or not); `None` when it is not the user's.
pub async fn set_completed(
    db: &Database,
    user_id: &str,
    id: i64,
    completed: bool,
) -> Result<Option<Task>, DbError> {
    update(
        db,
        user_id,
        id,
        &TaskChanges {
            completed: Some(completed),
            ..TaskChanges::default()
        },
    )
    .await
}

/// Flips `completed`; `None` when the task is not the user's.
pub async fn toggle(db: &Database, user_id: &str, id: i64) -> Result<Option<Task>, DbError> {
    let sql = format!(
        "UPDATE tasks SET completed = NOT completed, updated_at = $3 \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    let at = now();
    let toggled = on_writer!(db, |pool| {
        sqlx::query_as::<_, Task>(&sql)
            .bind(id)
            .bind(user_id)
            .bind(at)
            .fetch_optional(pool)
            .await
    })?;
    db.count_task_write(user_id);
    if toggled.as_ref().is_some_and(|t| t.completed) {
        metrics::counter!("todo_tasks_completed_total").increment(1);
    }
    Ok(toggled)
}

/// Deletes the task and returns what it was; `None` when it is not the user's.
pub async fn delete(db: &Database, user_id: &str, id: i64) -> Result<Option<Task>, DbError> {
    let sql = format!("DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}");
    let deleted = on_writer!(db, |pool| {
        sqlx::query_as::<_, Task>(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    db.count_task_write(user_id);
    if deleted.is_some() {
        metrics::counter!("todo_tasks_deleted_total").increment(1);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn titles_are_counted_in_characters_not_bytes() {
        let emoji_200 = "😀".repeat(200);
        assert!(
            NewTask::new(&emoji_200, None).is_ok(),
            "200 emoji are 200 characters"
        );
        let err = NewTask::new(&"😀".repeat(201), None).unwrap_err();
        assert!(err.0.contains("201 characters"), "{err}");
    }

    #[test]
    fn blank_titles_are_refused_and_blank_descriptions_become_none() {
        assert!(NewTask::new("   ", None).is_err());
        let task = NewTask::new(" Buy milk ", Some("  ")).unwrap();
        assert_eq!((task.title(), task.description()), ("Buy milk", None));
    }

    #[test]
    fn descriptions_over_1000_characters_are_refused() {
        assert!(NewTask::new("t", Some(&"é".repeat(1000))).is_ok());
        assert!(NewTask::new("t", Some(&"é".repeat(1001))).is_err());
    }

    #[test]
    fn changes_distinguish_absent_from_cleared_description() {
        let untouched = TaskChanges::new(Some("x"), None, None).unwrap();
        assert_eq!(untouched.description, None);
        let cleared = TaskChanges::new(None, Some(None), None).unwrap();
        assert_eq!(cleared.description, Some(None));
        assert!(TaskChanges::new(None, None, None).unwrap().is_empty());
    }
}
