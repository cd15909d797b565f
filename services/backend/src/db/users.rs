//! The users repository: accounts made by the built-in sign-up.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Database, DbError, now, on_pool, on_writer};

/// A user as the API shows it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A user with the stored password hash, for sign-in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserCredentials {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: Option<String>,
}

/// Creates an account with a new UUID id. `email` must already be normalised (trimmed, lower
/// case). A taken email is [`DbError::Conflict`].
pub async fn create(
    db: &Database,
    email: &str,
    name: Option<&str>,
    password_hash: &str,
) -> Result<User, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let sql = "INSERT INTO users (id, email, name, password_hash, created_at) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id, email, name, created_at";
    let at = now();
    let result = on_writer!(db, |pool| {
        sqlx::query_as::<_, User>(sql)
            .bind(&id)
            .bind(email)
            .bind(name)
            .bind(password_hash)
            .bind(at)
            .fetch_one(pool)
            .await
    });
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(DbError::Conflict(
            "an account with this email already exists".into(),
        )),
        other => Ok(other?),
    }
}

/// The account with this (normalised) email and its password hash.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<UserCredentials>, DbError> {
    let sql = "SELECT id, email, name, created_at, password_hash FROM users WHERE email = $1";
    Ok(on_pool!(db, |pool| {
        sqlx::query_as::<_, UserCredentials>(sql)
            .bind(email)
            .fetch_optional(pool)
            .await
    })?)
}

/// The account with this id.
pub async fn get(db: &Database, id: &str) -> Result<Option<User>, DbError> {
    let sql = "SELECT id, email, name, created_at FROM users WHERE id = $1";
    Ok(on_pool!(db, |pool| sqlx::query_as::<_, User>(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?)
}
