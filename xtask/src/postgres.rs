//! A throwaway PostgreSQL server for the benchmarks and the Kubernetes suite, started from the
//! installed binaries (as the `postgres` user when we are root: the server refuses to run as
//! root).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::project;

/// A running PostgreSQL cluster in a scratch folder; stopped on drop (unless
/// [`Throwaway::keep`] hands it over to a stack that outlives this process).
pub struct Throwaway {
    server: Server,
}

/// A PostgreSQL server this machine runs from a data folder: enough to stop and start it again
/// from another process (`up --postgres` records it; `test-e2e --db-outage` stops it for a while).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub bin: PathBuf,
    pub data: PathBuf,
    pub port: u16,
    pub host: String,
    /// The server options `pg_ctl start -o` was given (port, socket folder, addresses).
    pub options: String,
}

/// Who may connect: the addresses the server listens on (the first is the one its URLs name)
/// and the client networks it trusts besides 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Access {
    pub listen: Vec<String>,
    pub trusted_networks: Vec<String>,
}

impl Access {
    /// This machine only.
    pub fn loopback() -> Self {
        Self {
            listen: vec!["127.0.0.1".to_owned()],
            trusted_networks: Vec::new(),
        }
    }
}

impl Throwaway {
    /// initdb + start on a free port, trust auth for 127.0.0.1 and `access`'s networks (a
    /// throwaway server: no password, never reachable beyond them).
    pub fn start(work: &Path, access: &Access) -> anyhow::Result<Self> {
        let bin = project::postgres_bin_dir().context(
            "PostgreSQL server binaries are not installed: apt-get install -y postgresql",
        )?;
        let root = work.join("postgres");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).context("creating the PostgreSQL folder")?;
        let data = root.join("data");
        if running_as_root() {
            run(
                &[
                    "chown",
                    "-R",
                    "postgres:postgres",
                    &root.display().to_string(),
                ],
                false,
            )?;
        }
        let initdb = bin.join("initdb").display().to_string();
        let data_arg = data.display().to_string();
        run(
            &[
                &initdb,
                "-D",
                &data_arg,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            true,
        )
        .context("initdb")?;
        let server = Server::configure(bin, data, access)?;
        server.start()?;
        Ok(Self { server })
    }

    /// Starts the server whose files an earlier [`Throwaway::keep`] left in `work`, with
    /// `access` (addresses and networks may have changed since); `None` when there are none.
    pub fn reopen(work: &Path, access: &Access) -> anyhow::Result<Option<Server>> {
        let data = work.join("postgres").join("data");
        if !data.join("PG_VERSION").exists() {
            return Ok(None);
        }
        let bin = project::postgres_bin_dir().context(
            "PostgreSQL server binaries are not installed: apt-get install -y postgresql",
        )?;
        let server = Server::configure(bin, data, access)?;
        server.start()?;
        Ok(Some(server))
    }

    /// Hands the running server over to a caller that stops it later ([`Server::stop`]).
    pub fn keep(self) -> Server {
        let server = self.server.clone();
        std::mem::forget(self);
        server
    }

    /// Creates a database.
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        self.server.create_database(name)
    }

    /// A URL for `database` with the given scheme (`postgres`, `postgresql+psycopg`).
    pub fn url(&self, database: &str, scheme: &str) -> String {
        self.server.url(database, scheme)
    }
}

impl Server {
    /// Trust for `access`'s networks in pg_hba.conf (added once), a free port, and the
    /// server options for `access`'s addresses.
    fn configure(bin: PathBuf, data: PathBuf, access: &Access) -> anyhow::Result<Self> {
        let root = data
            .parent()
            .context("the data folder has a parent")?
            .to_owned();
        // This machine through the listen addresses too.
        let own: Vec<String> = access
            .listen
            .iter()
            .filter(|a| *a != "127.0.0.1")
            .map(|a| format!("{a}/32"))
            .collect();
        let hba = data.join("pg_hba.conf");
        let mut text = std::fs::read_to_string(&hba).context("reading pg_hba.conf")?;
        let before = text.len();
        for network in access.trusted_networks.iter().chain(&own) {
            let line = format!("host all all {network} trust\n");
            if !text.contains(&line) {
                text.push_str(&line);
            }
        }
        if text.len() != before {
            std::fs::write(&hba, text).context("writing pg_hba.conf")?;
        }
        let port = crate::procs::free_port()?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses={} -c fsync=off -c max_connections=200",
            root.display(),
            access.listen.join(",")
        );
        let host = access
            .listen
            .first()
            .cloned()
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        Ok(Self {
            bin,
            data,
            port,
            host,
            options,
        })
    }

    /// `pg_ctl start`, waiting up to 30 s for the server to accept connections.
    pub fn start(&self) -> anyhow::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        let log = self.log().display().to_string();
        run(
            &[
                &pg_ctl,
                "-D",
                &data,
                "-o",
                &self.options,
                "-l",
                &log,
                "-w",
                "-t",
                "30",
                "start",
            ],
            true,
        )
        .with_context(|| format!("starting PostgreSQL (its log: {log})"))
    }

    /// `pg_ctl stop -m fast`: open sessions are ended, the server is down when this returns.
    pub fn stop(&self) -> anyhow::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        run(&[&pg_ctl, "-D", &data, "-m", "fast", "-w", "stop"], true)
            .context("stopping PostgreSQL")
    }

    /// Whether the server runs (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        run(&[&pg_ctl, "-D", &data, "status"], true).is_ok()
    }

    fn log(&self) -> PathBuf {
        self.data.with_file_name("server.log")
    }

    /// Creates a database.
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let createdb = self.bin.join("createdb").display().to_string();
        run(
            &[
                &createdb,
                // The socket folder: the server's TCP addresses may not be this machine's
                // source address towards itself (a bridge's gateway, say).
                "-h",
                &self
                    .data
                    .parent()
                    .unwrap_or(&self.data)
                    .display()
                    .to_string(),
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ],
            true,
        )
        .with_context(|| format!("creating database {name}"))
    }

    /// A URL for `database` with the given scheme (`postgres`, `postgresql+psycopg`).
    pub fn url(&self, database: &str, scheme: &str) -> String {
        format!("{scheme}://postgres@{}:{}/{database}", self.host, self.port)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.server.stop();
    }
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs a program; `as_postgres` switches to the postgres user when we are root.
fn run(argv: &[&str], as_postgres: bool) -> anyhow::Result<()> {
    let mut command = if as_postgres && running_as_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(argv);
        c
    } else {
        let mut c = std::process::Command::new(argv[0]);
        c.args(&argv[1..]);
        c
    };
    let output = command
        .output()
        .with_context(|| format!("running {}", argv[0]))?;
    if !output.status.success() {
        bail!(
            "{} failed with {}: {}",
            argv[0],
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
