//! Where a benchmark's servers keep their data: a fresh SQLite file per server, or a fresh
//! database in one throwaway PostgreSQL, so no round reads what another wrote.

use std::path::{Path, PathBuf};

use crate::postgres::{Access, Throwaway};

/// The databases a benchmark hands out.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Fresh databases of one kind, all under one work folder.
pub struct Store {
    work: PathBuf,
    postgres: Option<Throwaway>,
}

impl Store {
    /// Starts a throwaway PostgreSQL under `work` for `Db::Postgres`; SQLite needs nothing.
    pub fn open(work: &Path, db: Db) -> anyhow::Result<Self> {
        let postgres = match db {
            Db::Postgres => Some(Throwaway::start(work, &Access::loopback())?),
            Db::Sqlite => None,
        };
        Ok(Self {
            work: work.to_owned(),
            postgres,
        })
    }

    /// A new, empty database `name`: the URL our backend reads and the peer's SQLAlchemy URL.
    pub fn fresh(&self, name: &str) -> anyhow::Result<(String, String)> {
        match &self.postgres {
            Some(pg) => {
                pg.create_database(name)?;
                Ok((pg.url(name, "postgres"), pg.url(name, "postgresql+psycopg")))
            }
            None => {
                let file = self.work.join(format!("{name}.db"));
                let _ = std::fs::remove_file(&file);
                let path = file.display().to_string();
                Ok((format!("sqlite://{path}"), format!("sqlite:///{path}")))
            }
        }
    }
}
