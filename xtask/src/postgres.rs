//! A throwaway PostgreSQL server for the benchmarks, the Kubernetes suite and `up --postgres`,
//! with the policy they share (trust for the named networks, a free port, a server `up` can
//! hand over to a later process); the programs themselves run through `todo_pg_launcher`, as
//! the test kit's servers do.

use std::path::{Path, PathBuf};

use anyhow::Context;
use todo_pg_launcher::Programs;

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
        let programs = Programs::find()?;
        let root = work.join("postgres");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).context("creating the PostgreSQL folder")?;
        programs.give_to_postgres(&root)?;
        let data = root.join("data");
        programs.initdb(&data, &["--auth=trust"])?;
        let server = Server::configure(programs.bin().to_owned(), data, access)?;
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
        let programs = Programs::find()?;
        let server = Server::configure(programs.bin().to_owned(), data, access)?;
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

    fn programs(&self) -> Programs {
        Programs::at(self.bin.clone())
    }

    /// `pg_ctl start`, waiting up to 30 s for the server to accept connections.
    pub fn start(&self) -> anyhow::Result<()> {
        let log = self.data.with_file_name("server.log");
        self.programs().start(&self.data, &self.options, &log)
    }

    /// `pg_ctl stop -m fast`: open sessions are ended, the server is down when this returns.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.programs().stop(&self.data, "fast")
    }

    /// Whether the server runs (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        self.programs().is_running(&self.data)
    }

    /// Creates a database, through the socket in the server's folder: its TCP addresses may
    /// not be this machine's source address towards itself (a bridge's gateway, say).
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        let socket_dir = self.data.parent().unwrap_or(&self.data);
        self.programs().createdb(socket_dir, self.port, name)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The life `up --postgres` gives a server, on a real one: started, a database made, handed
    /// over (still running after the `Throwaway` is gone), stopped, reopened from its files
    /// with the data kept, and stopped again. Skipped loudly without PostgreSQL outside CI.
    #[test]
    fn a_kept_server_outlives_its_launcher_and_reopens_with_its_databases() {
        if todo_pg_launcher::bin_dir().is_none() {
            assert!(
                !crate::project::in_ci(),
                "{}",
                todo_pg_launcher::INSTALL_HINT
            );
            eprintln!("!!!! SKIPPED: {}", todo_pg_launcher::INSTALL_HINT);
            return;
        }
        let work = tempfile::tempdir().unwrap();
        let access = Access::loopback();
        let throwaway = Throwaway::start(work.path(), &access).unwrap();
        throwaway.create_database("kept").unwrap();
        assert!(throwaway.url("kept", "postgres").ends_with("/kept"));
        let server = throwaway.keep();
        assert!(server.is_running(), "keep must not stop the server");
        server.stop().unwrap();
        assert!(!server.is_running());

        let reopened = Throwaway::reopen(work.path(), &access).unwrap().unwrap();
        assert!(reopened.is_running());
        let again = reopened.create_database("kept").unwrap_err();
        assert!(
            format!("{again:#}").contains("already exists"),
            "the database made before the stop is there: {again:#}"
        );
        reopened.stop().unwrap();
        assert!(
            Throwaway::reopen(&work.path().join("elsewhere"), &access)
                .unwrap()
                .is_none()
        );
    }
}
