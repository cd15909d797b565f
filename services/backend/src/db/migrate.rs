//! Migrations: applied at start (or by `backend migrate`), once even when replicas start
//! together, and retried while the database is still coming up.

use std::{path::Path, time::Duration};

use sqlx::migrate::Migrator;

use super::{Database, error::is_unavailable, file_lock::lock_beside};

static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

impl Database {
    /// Applies pending migrations. On PostgreSQL the migrator holds an advisory lock for the
    /// whole run, so replicas starting together apply each migration exactly once; on SQLite,
    /// whose migrator has no lock, an exclusive file lock beside the database does the same.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Self::Postgres { pool, .. } => POSTGRES_MIGRATOR.run(pool).await,
            Self::Sqlite { writer, .. } => {
                let _held = sqlite_migration_lock(writer.connect_options().get_filename()).await?;
                SQLITE_MIGRATOR.run(writer).await
            }
        }
    }

    /// [`Database::migrate`], retried while the database is unreachable (it may still be
    /// starting beside us, as in a fresh Compose stack or cluster) for at most `wait`.
    pub async fn migrate_waiting(&self, wait: Duration) -> Result<(), sqlx::migrate::MigrateError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(500);
        loop {
            match self.migrate().await {
                Err(sqlx::migrate::MigrateError::Execute(e))
                    if is_unavailable(&e) && tokio::time::Instant::now() + pause < deadline =>
                {
                    tracing::warn!(error = %e, retry_in_ms = pause.as_millis(), "database not reachable yet; retrying migrations");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }
}

/// Whether `database` names an in-memory SQLite database: `:memory:`, or the `file:` URI that
/// sqlx gives one (`file:sqlx-in-memory-N`, or any `mode=memory`). No file, so no lock file.
fn is_in_memory(database: &Path) -> bool {
    let name = database.to_string_lossy();
    name == ":memory:"
        || name.starts_with("file:sqlx-in-memory-")
        || name.starts_with("file::memory:")
        || (name.starts_with("file:") && name.contains("mode=memory"))
}

/// The longest wait for another process's SQLite migrations to finish.
const SQLITE_MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Takes an exclusive lock on `<database>.migrate-lock` (none for an in-memory database),
/// held until the returned file is dropped. Two processes starting together on one SQLite
/// file (the server and `backend migrate`, or two replicas on a shared volume) would otherwise
/// both apply a migration, and the second would fail on the tables the first made.
async fn sqlite_migration_lock(
    database: &Path,
) -> Result<Option<std::fs::File>, sqlx::migrate::MigrateError> {
    if is_in_memory(database) {
        return Ok(None);
    }
    lock_beside(
        database,
        ".migrate-lock",
        SQLITE_MIGRATION_LOCK_WAIT,
        |_| {},
    )
    .await
    .map(Some)
    .map_err(|error| {
        sqlx::migrate::MigrateError::Execute(sqlx::Error::Io(std::io::Error::other(format!(
            "the migration lock: {error}"
        ))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_databases_take_no_lock_file() {
        for name in [
            ":memory:",
            "file:sqlx-in-memory-0",
            "file::memory:?cache=shared",
            "file:todo?mode=memory",
        ] {
            assert!(is_in_memory(Path::new(name)), "{name}");
        }
        for name in ["/data/todo.db", "todo.db", "file-todo.db"] {
            assert!(!is_in_memory(Path::new(name)), "{name}");
        }
    }
}
