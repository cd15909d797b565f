//! Persistence: one [`Database`] over PostgreSQL or SQLite and its pools, and the repositories;
//! what its failures mean (`error.rs`), migrations (`migrate.rs`), PostgreSQL URLs
//! (`postgres_url.rs`), rendered listings kept while the user's tasks are unchanged
//! (`listing_cache.rs`), locks on files beside a SQLite database (`file_lock.rs`).
//!
//! Every query is written once with `$1`-style placeholders, which both drivers accept, and
//! dispatched to whichever pool is configured by [`on_pool!`].

pub mod conversations;
mod error;
mod file_lock;
mod listing_cache;
mod migrate;
mod postgres_url;
pub mod tasks;
pub mod users;

pub use error::{DbError, ValidationError};
pub use listing_cache::{ListingCache, SqliteOwner};
pub use postgres_url::postgres_options;

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use todo_config::DatabaseUrl;

/// How long a request waits for a pooled connection before the database counts as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The application's database: a pool over PostgreSQL or over SQLite.
#[derive(Debug, Clone)]
pub enum Database {
    /// `listings`, when set, keeps rendered listings, each valid while the user's
    /// `task_versions` row still holds the version it was read at.
    Postgres {
        pool: PgPool,
        listings: Option<Arc<ListingCache>>,
    },
    /// SQLite allows one writer at a time, and a writer that finds the lock taken sleeps in
    /// SQLite's busy handler (1 ms, then longer, up to 100 ms a try), which made concurrent
    /// chat turns slow in the tail. So every write goes through `writer`, a pool of one
    /// connection, where writers queue in-process; reads use `pool` and, in WAL mode, never
    /// wait for the writer. `listings`, when set, keeps rendered listings between writes.
    Sqlite {
        pool: SqlitePool,
        writer: SqlitePool,
        listings: Option<Arc<ListingCache>>,
    },
}

/// Runs the same expression against whichever pool `$db` reads from, with the pool bound to
/// `$pool`.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Postgres { pool: $pool, .. } => $body,
            $crate::db::Database::Sqlite { pool: $pool, .. } => $body,
        }
    };
}
pub(crate) use on_pool;

/// [`on_pool!`] for statements that write: on SQLite they take the single writer connection.
macro_rules! on_writer {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Postgres { pool: $pool, .. } => $body,
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
                Ok(Self::Postgres {
                    pool,
                    listings: None,
                })
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
                Ok(Self::Sqlite {
                    pool,
                    writer,
                    listings: None,
                })
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
                    listings: None,
                })
            }
        }
    }

    /// Keeps rendered task listings in memory, up to `capacity_bytes` (0 keeps none). On a
    /// SQLite file this process must own the file first: it waits up to `wait` for another
    /// backend to let go of it.
    pub async fn cache_listings(
        self,
        url: &DatabaseUrl,
        capacity_bytes: u64,
        wait: Duration,
    ) -> anyhow::Result<Self> {
        if capacity_bytes == 0 {
            return Ok(self);
        }
        Ok(match self {
            Self::Postgres { pool, .. } => Self::Postgres {
                pool,
                listings: Some(Arc::new(ListingCache::new(capacity_bytes, None))),
            },
            Self::Sqlite { pool, writer, .. } => {
                let owner = match url {
                    DatabaseUrl::Sqlite { path } => Some(SqliteOwner::acquire(path, wait).await?),
                    DatabaseUrl::SqliteMemory | DatabaseUrl::Postgres(_) => None,
                };
                Self::Sqlite {
                    pool,
                    writer,
                    listings: Some(Arc::new(ListingCache::new(capacity_bytes, owner))),
                }
            }
        })
    }

    /// The cache of rendered listings, if this database keeps one.
    fn listing_cache(&self) -> Option<&ListingCache> {
        match self {
            Self::Postgres { listings, .. } | Self::Sqlite { listings, .. } => listings.as_deref(),
        }
    }

    /// Call after a write of `user_id`'s tasks has committed, before answering it. On SQLite
    /// this moves the version that kept listings are checked against; on PostgreSQL the
    /// trigger on `tasks` has already moved it, in the write's own transaction.
    fn count_task_write(&self, user_id: &str) {
        if let Self::Sqlite {
            listings: Some(cache),
            ..
        } = self
        {
            cache.count_write(user_id);
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
            Self::Postgres { .. } => "postgres",
            Self::Sqlite { .. } => "sqlite",
        }
    }

    /// Closes every connection; pending queries finish first.
    pub async fn close(&self) {
        match self {
            Self::Postgres { pool, .. } => pool.close().await,
            Self::Sqlite { pool, writer, .. } => {
                pool.close().await;
                writer.close().await;
            }
        }
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

    #[tokio::test]
    async fn sqlite_reads_share_a_pool_and_writes_queue_for_one_writer_connection() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite {
            path: dir.path().join("todo.db"),
        };
        let db = Database::connect_lazy(&url, 4).unwrap();
        let Database::Sqlite { pool, writer, .. } = &db else {
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
}
