//! What a database failure means for the caller: unavailable (retry, 503), a conflict, a
//! broken rule of the data model (422), or a bug.

/// A failure of the persistence layer, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached (down, pool exhausted, network): retry later, 503.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A uniqueness rule was broken; the message names what already exists.
    #[error("{0}")]
    Conflict(String),
    /// Anything else: a bug or a broken schema.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable(error)
        } else {
            Self::Other(error)
        }
    }
}

/// Whether an error means "the database is not reachable right now" rather than a bad query.
pub(super) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite's primary result code is the low byte: BUSY, LOCKED, IOERR, CANTOPEN.
                let primary = code.parse::<i32>().unwrap_or_default() & 0xff;
                matches!(primary, 5 | 6 | 10 | 14)
            } else {
                // PostgreSQL class 08 (connection exception) and 57P (admin shutdown, cannot
                // connect now).
                code.starts_with("08") || code.starts_with("57P")
            }
        }
        _ => false,
    }
}

/// A user input that breaks a rule of the data model (lengths, blanks); becomes a 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);
