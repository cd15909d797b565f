//! A throwaway PostgreSQL server for the benchmarks and the Kubernetes suite, started from the
//! installed binaries (as the `postgres` user when we are root: the server refuses to run as
//! root).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::project;

/// A running PostgreSQL cluster in a scratch folder; stopped on drop.
pub struct Throwaway {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    host: String,
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
        let port = crate::procs::free_port()?;
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
        // This machine through the listen addresses too (createdb names the first one).
        let own: Vec<String> = access
            .listen
            .iter()
            .filter(|a| *a != "127.0.0.1")
            .map(|a| format!("{a}/32"))
            .collect();
        if !access.trusted_networks.is_empty() || !own.is_empty() {
            let hba = data.join("pg_hba.conf");
            let mut text = std::fs::read_to_string(&hba).context("reading pg_hba.conf")?;
            for network in access.trusted_networks.iter().chain(&own) {
                text.push_str(&format!("host all all {network} trust\n"));
            }
            std::fs::write(&hba, text).context("writing pg_hba.conf")?;
        }
        let pg_ctl = bin.join("pg_ctl").display().to_string();
        let options = format!(
            "-p {port} -k {} -c listen_addresses={} -c fsync=off -c max_connections=200",
            root.display(),
            access.listen.join(",")
        );
        let log = root.join("server.log").display().to_string();
        run(
            &[
                &pg_ctl, "-D", &data_arg, "-o", &options, "-l", &log, "-w", "-t", "30", "start",
            ],
            true,
        )
        .with_context(|| format!("starting PostgreSQL (its log: {log})"))?;
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
        })
    }

    /// Creates a database.
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let createdb = self.bin.join("createdb").display().to_string();
        run(
            &[
                &createdb,
                "-h",
                &self.host,
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
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        let data = self.data.display().to_string();
        let _ = run(&[&pg_ctl, "-D", &data, "-m", "fast", "-w", "stop"], true);
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
