//! `DATABASE_URL`: which database the backend uses, parsed once.

use std::path::PathBuf;

use crate::{ConfigError, Secret};

/// Where the embedded default keeps its database when `DATABASE_URL` is unset.
pub const DEFAULT_SQLITE_PATH: &str = "./data/todo.db";

/// The backend's database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…` (Neon in production). Kept secret: it may carry a password.
    Postgres(Secret),
    /// `sqlite:///absolute/path.db`, `sqlite://relative/path.db`, or the embedded default.
    Sqlite { path: PathBuf },
    /// `sqlite::memory:`: a private in-memory database (tests and demos; lost on exit).
    SqliteMemory,
}

impl DatabaseUrl {
    /// The embedded default: a SQLite file under `./data/`.
    pub fn embedded_default() -> Self {
        Self::Sqlite {
            path: PathBuf::from(DEFAULT_SQLITE_PATH),
        }
    }

    /// Parses a `DATABASE_URL`. Errors name the scheme only, never the URL (it may hold a password).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw == "sqlite::memory:" || raw == "sqlite://:memory:" {
            return Ok(Self::SqliteMemory);
        }
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(ConfigError::invalid(
                "DATABASE_URL",
                "is not a URL; use postgres://user:password@host/db or sqlite:///absolute/path.db",
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => {
                if rest.is_empty() {
                    return Err(ConfigError::invalid(
                        "DATABASE_URL",
                        "postgres URL names no host",
                    ));
                }
                Ok(Self::Postgres(Secret::new(raw)))
            }
            "sqlite" => {
                // sqlite:///abs/path -> rest = "/abs/path"; sqlite://rel/path -> rest = "rel/path".
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() || path == "/" {
                    return Err(ConfigError::invalid(
                        "DATABASE_URL",
                        "sqlite URL names no file; use sqlite:///absolute/path.db or sqlite://relative/path.db",
                    ));
                }
                Ok(Self::Sqlite {
                    path: PathBuf::from(path),
                })
            }
            other => Err(ConfigError::invalid(
                "DATABASE_URL",
                format!("scheme `{other}` is not supported; use postgres://… or sqlite://…"),
            )),
        }
    }

    /// A description safe to log: the kind and location without credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Postgres(url) => {
                let rest = url
                    .expose()
                    .split_once("://")
                    .map(|(_, r)| r)
                    .unwrap_or_default();
                let after_credentials = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
                let location = after_credentials.split('?').next().unwrap_or_default();
                format!("postgres at {location}")
            }
            Self::Sqlite { path } => format!("sqlite at {}", path.display()),
            Self::SqliteMemory => "sqlite in memory".to_owned(),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        !matches!(self, Self::Postgres(_))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn postgres_and_postgresql_schemes_are_postgres() {
        for url in [
            "postgres://u:p@db/todo",
            "postgresql://u:p@db.neon.tech/todo?sslmode=require",
        ] {
            assert!(matches!(
                DatabaseUrl::parse(url).unwrap(),
                DatabaseUrl::Postgres(_)
            ));
        }
    }

    #[test]
    fn sqlite_urls_keep_absolute_and_relative_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/todo/todo.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("/var/lib/todo/todo.db")
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/todo.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: PathBuf::from("data/todo.db")
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap(),
            DatabaseUrl::SqliteMemory
        );
    }

    #[test]
    fn unknown_schemes_are_refused_without_echoing_the_url() {
        let err = DatabaseUrl::parse("mysql://root:topsecret@db/todo")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`mysql` is not supported"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
        assert!(DatabaseUrl::parse("not a url").is_err());
    }

    #[test]
    fn describe_hides_credentials() {
        let url =
            DatabaseUrl::parse("postgres://me:topsecret@db.example:5432/todo?sslmode=require")
                .unwrap();
        assert_eq!(url.describe(), "postgres at db.example:5432/todo");
    }
}
