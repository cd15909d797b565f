//! The conversations repository: chat history, kept in the database so the server holds no
//! state between requests. Every query is scoped by the owner's `user_id`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Database, DbError, now, on_pool, on_writer};

/// A chat conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Conversation {
    pub id: i64,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "user" => Ok(Self::User),
            "assistant" => Ok(Self::Assistant),
            other => Err(format!("unknown message role `{other}`")),
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Message {
    pub id: i64,
    pub user_id: String,
    pub conversation_id: i64,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub content: String,
    pub created_at: DateTime<Utc>,
    /// The tools an assistant reply ran, as the chat response listed them (empty otherwise).
    #[sqlx(try_from = "Option<String>")]
    pub tool_calls: StoredToolCalls,
}

/// The `tool_calls` of a stored reply: `[{tool, input, output}]`, kept as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Vec<Object>)]
pub struct StoredToolCalls(pub Vec<serde_json::Value>);

impl TryFrom<Option<String>> for StoredToolCalls {
    type Error = serde_json::Error;

    fn try_from(text: Option<String>) -> Result<Self, Self::Error> {
        match text {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(&text).map(Self),
        }
    }
}

const MESSAGE_COLUMNS: &str = "id, user_id, conversation_id, role, content, created_at, tool_calls";

/// Starts a new, empty conversation for the user.
pub async fn create(db: &Database, user_id: &str) -> Result<Conversation, DbError> {
    let sql = "INSERT INTO conversations (user_id, created_at, updated_at) VALUES ($1, $2, $2) \
               RETURNING id, user_id, created_at, updated_at";
    let at = now();
    Ok(on_writer!(db, |pool| {
        sqlx::query_as::<_, Conversation>(sql)
            .bind(user_id)
            .bind(at)
            .fetch_one(pool)
            .await
    })?)
}

/// The conversation if it exists and belongs to the user; `None` otherwise (someone else's
/// conversation is indistinguishable from a missing one).
pub async fn get(db: &Database, user_id: &str, id: i64) -> Result<Option<Conversation>, DbError> {
    let sql = "SELECT id, user_id, created_at, updated_at FROM conversations \
               WHERE id = $1 AND user_id = $2";
    Ok(on_pool!(db, |pool| {
        sqlx::query_as::<_, Conversation>(sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?)
}

/// The user's conversations, most recently active first.
pub async fn list(db: &Database, user_id: &str) -> Result<Vec<Conversation>, DbError> {
    let sql = "SELECT id, user_id, created_at, updated_at FROM conversations \
               WHERE user_id = $1 ORDER BY updated_at DESC, id DESC";
    Ok(on_pool!(db, |pool| {
        sqlx::query_as::<_, Conversation>(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await
    })?)
}

/// Appends a message (with the tools a reply ran) to one of the user's conversations and moves
/// the conversation's `updated_at`; `None` when the conversation is not the user's.
pub async fn append_message(
    db: &Database,
    user_id: &str,
    conversation_id: i64,
    role: Role,
    content: &str,
    tool_calls: &[impl Serialize],
) -> Result<Option<Message>, DbError> {
    let touch = "UPDATE conversations SET updated_at = $3 WHERE id = $1 AND user_id = $2";
    let insert = format!(
        "INSERT INTO messages (user_id, conversation_id, role, content, created_at, tool_calls) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {MESSAGE_COLUMNS}"
    );
    let tool_calls = if tool_calls.is_empty() {
        None
    } else {
        let text = serde_json::to_string(tool_calls)
            .map_err(|error| DbError::Other(sqlx::Error::Encode(Box::new(error))))?;
        Some(text)
    };
    let at = now();
    Ok(on_writer!(db, |pool| {
        let mut tx = pool.begin().await?;
        let touched = sqlx::query(touch)
            .bind(conversation_id)
            .bind(user_id)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if touched == 0 {
            return Ok(None);
        }
        let message = sqlx::query_as::<_, Message>(&insert)
            .bind(user_id)
            .bind(conversation_id)
            .bind(role.as_str())
            .bind(content)
            .bind(at)
            .bind(&tool_calls)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Some(message))
    })?)
}

/// The last `limit` messages of the user's conversation, oldest first.
pub async fn recent_messages(
    db: &Database,
    user_id: &str,
    conversation_id: i64,
    limit: u32,
) -> Result<Vec<Message>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM (SELECT {MESSAGE_COLUMNS} FROM messages \
         WHERE conversation_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3) AS recent \
         ORDER BY id ASC"
    );
    Ok(on_pool!(db, |pool| {
        sqlx::query_as::<_, Message>(&sql)
            .bind(conversation_id)
            .bind(user_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
    })?)
}

/// Every message of the user's conversation, oldest first.
pub async fn messages(
    db: &Database,
    user_id: &str,
    conversation_id: i64,
) -> Result<Vec<Message>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND user_id = $2 \
         ORDER BY id ASC"
    );
    Ok(on_pool!(db, |pool| {
        sqlx::query_as::<_, Message>(&sql)
            .bind(conversation_id)
            .bind(user_id)
            .fetch_all(pool)
            .await
    })?)
}
