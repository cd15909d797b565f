//! The seed's own stack, `../shared/peers/fastapi-todo`: the measuring stick every benchmark
//! runs beside ours.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::project;

/// The seed's FastAPI peer, in its own venv under target/bench.
pub struct Peer {
    dir: PathBuf,
    uvicorn: PathBuf,
}

impl Peer {
    pub fn prepare(sh: &Shell, dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.unwrap_or_else(|| project::root().join("../shared/peers/fastapi-todo"));
        if !dir.join("app.py").exists() {
            bail!(
                "no peer at {} (expected app.py); pass --peer-dir or --no-peer",
                dir.display()
            );
        }
        let venv = project::root().join("target/bench/peer-venv");
        let uvicorn = venv.join("bin/uvicorn");
        if !uvicorn.exists() {
            println!("installing the peer's requirements into {}", venv.display());
            let python =
                project::require_tool("python3", "apt-get install -y python3 python3-venv")?;
            cmd!(sh, "{python} -m venv {venv}")
                .run()
                .context("creating the peer's venv")?;
            let (pip, requirements) = (venv.join("bin/pip"), dir.join("requirements.txt"));
            cmd!(
                sh,
                "{pip} install --quiet --disable-pip-version-check -r {requirements}"
            )
            .run()
            .context("installing the peer's requirements")?;
        }
        Ok(Self {
            dir: dir.canonicalize().unwrap_or(dir),
            uvicorn,
        })
    }

    /// Creates the peer's tables in a fresh database, with the peer's own models, before its
    /// workers start. Its two workers both create them at startup, and on SQLite the loser of
    /// that race exits ("table task already exists"; it retries only PostgreSQL's errors),
    /// which left the peer with one worker and failed requests in some rounds.
    fn create_schema(&self, database_url: &str) -> anyhow::Result<()> {
        let python = self.uvicorn.with_file_name("python");
        let script = "import app; app.SQLModel.metadata.create_all(app.engine)";
        duct::cmd!(&python, "-c", script)
            .dir(&self.dir)
            .env("DATABASE_URL", database_url)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout_null()
            .run()
            .with_context(|| format!("creating the peer's tables with {}", python.display()))?;
        Ok(())
    }

    /// The peer exactly as its README runs it: uvicorn with two workers, on a database whose
    /// tables this has just created (see [`Peer::create_schema`]).
    pub fn command(
        &self,
        port: u16,
        database_url: &str,
        secret: &str,
    ) -> anyhow::Result<duct::Expression> {
        self.create_schema(database_url)?;
        Ok(duct::cmd!(
            &self.uvicorn,
            "app:app",
            "--host",
            "127.0.0.1",
            "--port",
            port.to_string(),
            "--workers",
            "2"
        )
        .dir(Path::new(&self.dir))
        .env("DATABASE_URL", database_url)
        .env("BETTER_AUTH_SECRET", secret))
    }
}
