//! Persistence: one [`Database`] over PostgreSQL or SQLite, migrations, and the repositories.
//!
//! Every query is written once with `$1`-style placeholders, which both drivers accept, and
//! dispatched to whichever pool is configured by [`on_pool!`].

pub mod conversations;
pub mod tasks;
pub mod users;

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use sqlx::{
    PgPool, SqlitePool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use todo_config::DatabaseUrl;

/// How long a request waits for a pooled connection before the database counts as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

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
fn is_unavailable(error: &sqlx::Error) -> bool {
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

/// The application's database: a pool over PostgreSQL or over SQLite.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(PgPool),
    /// SQLite allows one writer at a time, and a writer that finds the lock taken sleeps in
    /// SQLite's busy handler (1 ms, then longer, up to 100 ms a try), which made concurrent
    /// chat turns slow in the tail. So every write goes through `writer`, a pool of one
    /// connection, where writers queue in-process; reads use `pool` and, in WAL mode, never
    /// wait for the writer.
    Sqlite {
        pool: SqlitePool,
        writer: SqlitePool,
    },
}

/// Runs the same expression against whichever pool `$db` reads from, with the pool bound to
/// `$pool`.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Postgres($pool) => $body,
            $crate::db::Database::Sqlite { pool: $pool, .. } => $body,
        }
    };
}
pub(crate) use on_pool;

/// [`on_pool!`] for statements that write: on SQLite they take the single writer connection.
macro_rules! on_writer {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Postgres($pool) => $body,
            $crate::db::Database::Sqlite { writer: $pool, .. } => $body,
        }
    };
}
pub(crate) use on_writer;

impl Database {
    /// Builds the pool without connecting yet: the first query connects, so a server whose
    /// database is briefly down still starts and reports itself not ready.
    pub fn connect_lazy(url: &DatabaseUrl, max_connections: u32) -> Result<Self, sqlx::Error> {
        match url {
            DatabaseUrl::Postgres(secret) => {
                let options = postgres_options(secret.expose())?;
                // No ping before every acquire (a round trip per request): sqlx pings a
                // connection when it is released and drops it if broken, which is what lets
                // the pool recover after an outage.
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .idle_timeout(Duration::from_secs(300))
                    .connect_lazy_with(options);
                Ok(Self::Postgres(pool))
            }
            DatabaseUrl::Sqlite { path } => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    // A listing of a few hundred rows crosses from the worker thread in one go.
                    .row_buffer_size(256);
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .connect_lazy_with(options.clone());
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .connect_lazy_with(options);
                Ok(Self::Sqlite { pool, writer })
            }
            DatabaseUrl::SqliteMemory => {
                // One connection that never closes: each connection would be its own database.
                let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options);
                Ok(Self::Sqlite {
                    writer: pool.clone(),
                    pool,
                })
            }
        }
    }

    /// Applies pending migrations. On PostgreSQL the migrator holds an advisory lock for the
    /// whole run, so replicas starting together apply each migration exactly once; on SQLite,
    /// whose migrator has no lock, an exclusive file lock beside the database does the same.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Self::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
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

    /// Runs a trivial query; used by the readiness check.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// `(open connections, idle connections, maximum)` of the pool.
    pub fn pool_usage(&self) -> (u32, u32, u32) {
        on_pool!(self, |pool| (
            pool.size(),
            u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            pool.options().get_max_connections()
        ))
    }

    /// `postgres` or `sqlite`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite { .. } => "sqlite",
        }
    }

    /// Closes every connection; pending queries finish first.
    pub async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite { pool, writer } => {
                pool.close().await;
                writer.close().await;
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
    use sqlx::migrate::MigrateError;
    if is_in_memory(database) {
        return Ok(None);
    }
    let mut lock_path = database.as_os_str().to_owned();
    lock_path.push(".migrate-lock");
    let lock_path = PathBuf::from(lock_path);
    let failed =
        |message: String| MigrateError::Execute(sqlx::Error::Io(std::io::Error::other(message)));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            failed(format!(
                "opening the migration lock {}: {e}",
                lock_path.display()
            ))
        })?;
    let deadline = tokio::time::Instant::now() + SQLITE_MIGRATION_LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(failed(format!(
                    "another process has held the migration lock {} for over {} s",
                    lock_path.display(),
                    SQLITE_MIGRATION_LOCK_WAIT.as_secs()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(failed(format!("locking {}: {e}", lock_path.display())));
            }
        }
    }
}

/// Parses a PostgreSQL URL. `sslmode` (`require`, `verify-full`, …) is honoured by sqlx with
/// rustls, SNI included. `channel_binding` is a libpq parameter that sqlx does not know: its
/// SCRAM exchange always uses the "client does not support channel binding" header (`n,,`),
/// which servers that merely offer SCRAM-SHA-256-PLUS accept. The parameter is removed before
/// parsing and the fact is logged, so a Neon URL that carries `channel_binding=require`
/// connects over TLS with SCRAM-SHA-256 (no channel binding).
pub fn postgres_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let (url, removed) = strip_query_parameter(url, "channel_binding");
    if let Some(value) = removed {
        tracing::warn!(
            channel_binding = %value,
            "the PostgreSQL driver (sqlx) does not implement channel binding; connecting with \
             SCRAM-SHA-256 over TLS without it (sslmode still applies)"
        );
    }
    PgConnectOptions::from_str(&url)
}

/// Removes `name=…` from a URL's query string; returns the new URL and the removed value.
fn strip_query_parameter(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut removed = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == name {
                removed = Some(value.to_owned());
                false
            } else {
                !pair.is_empty()
            }
        })
        .collect();
    if kept.is_empty() {
        (base.to_owned(), removed)
    } else {
        (format!("{base}?{}", kept.join("&")), removed)
    }
}

/// The current time at the precision both databases store (microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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

    #[test]
    fn channel_binding_is_removed_and_other_parameters_are_kept() {
        let (url, removed) = strip_query_parameter(
            "postgres://u:p@ep-x.neon.tech/db?sslmode=require&channel_binding=require",
            "channel_binding",
        );
        assert_eq!(url, "postgres://u:p@ep-x.neon.tech/db?sslmode=require");
        assert_eq!(removed.as_deref(), Some("require"));
        let (url, removed) = strip_query_parameter("postgres://h/db", "channel_binding");
        assert_eq!((url.as_str(), removed), ("postgres://h/db", None));
    }

    #[tokio::test]
    async fn sqlite_reads_share_a_pool_and_writes_queue_for_one_writer_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite {
            path: dir.path().join("todo.db"),
        };
        let db = Database::connect_lazy(&url, 4).unwrap();
        let Database::Sqlite { pool, writer } = &db else {
            panic!("a SQLite database")
        };
        assert_eq!(pool.options().get_max_connections(), 4);
        assert_eq!(writer.options().get_max_connections(), 1);
        db.migrate().await.unwrap();
        sqlx::query(
            "INSERT INTO users (id, email, created_at) VALUES ('u', 'u@example.org', 'now')",
        )
        .execute(writer)
        .await
        .unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(seen, 1, "a read after a committed write sees it");
        db.close().await;
    }

    #[test]
    fn a_neon_style_url_parses_with_tls_required() {
        let options = postgres_options(
            "postgresql://u:p@ep-x.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
        )
        .unwrap();
        assert_eq!(options.get_host(), "ep-x.eu-central-1.aws.neon.tech");
        assert!(matches!(
            options.get_ssl_mode(),
            sqlx::postgres::PgSslMode::Require
        ));
    }
}
