//! Real PostgreSQL for tests: `TEST_DATABASE_URL` if set, else a throwaway server started from
//! the installed binaries (once per test process), with a fresh database per test.
//!
//! The programs run through `todo_pg_launcher` (as the `postgres` user when the tests run as
//! root). A watchdog shell stops the shared server and removes its folder when the test
//! process exits, however it exits.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use sqlx::{Connection, PgConnection};
use todo_pg_launcher::{Programs, run};

/// The command that installs what these tests need, for error messages.
pub const INSTALL_HINT: &str = "install PostgreSQL (`sudo apt-get install -y postgresql`) or set TEST_DATABASE_URL to a server \
     where the user may CREATE DATABASE";

/// A fresh, empty database on a real PostgreSQL server, for one test.
#[derive(Debug, Clone)]
pub struct TestPostgres {
    /// `postgres://…/<fresh database>`.
    pub url: String,
    pub database: String,
}

impl TestPostgres {
    /// A fresh database on the shared server. `None` (after a loud SKIPPED line) when no
    /// PostgreSQL is available outside CI; in CI (`CI=true`) that is a panic instead.
    pub async fn fresh() -> Option<Self> {
        let admin_url = match shared_server() {
            Ok(url) => url.clone(),
            Err(why) => return skip_or_panic(why),
        };
        Some(create_database(&admin_url).await)
    }
}

/// A PostgreSQL server of the test's own, which the test may stop and start again (to
/// simulate an outage). Stopped and removed on drop.
#[derive(Debug)]
pub struct PrivateServer {
    local: LocalServer,
}

impl PrivateServer {
    /// Starts a private server. `None` (after a SKIPPED line) without PostgreSQL binaries
    /// outside CI; a panic in CI.
    pub fn start() -> Option<Self> {
        match LocalServer::start() {
            Ok(local) => Some(Self { local }),
            Err(why) => skip_or_panic(why),
        }
    }

    /// Starts a private server that takes TCP connections only with a password
    /// (SCRAM-SHA-256) and offers TLS with a throwaway self-signed certificate, as Neon does.
    /// Needs `openssl` besides the server binaries.
    pub fn start_with_tls() -> Option<Self> {
        match LocalServer::start_with(true) {
            Ok(local) => Some(Self { local }),
            Err(why) => skip_or_panic(why),
        }
    }

    /// A fresh database on this server.
    pub async fn fresh(&self) -> TestPostgres {
        create_database(&self.local.admin_url()).await
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&self) {
        self.local
            .programs
            .stop(&self.local.data_dir(), "fast")
            .unwrap_or_else(|e| panic!("{e:#}"));
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&self) {
        self.local
            .start_server()
            .unwrap_or_else(|e| panic!("{e:#}"));
    }

    pub fn port(&self) -> u16 {
        self.local.port
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self
            .local
            .programs
            .stop(&self.local.data_dir(), "immediate");
        let _ = std::fs::remove_dir_all(&self.local.dir);
    }
}

fn skip_or_panic<T>(why: String) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("PostgreSQL is required in CI but is not available: {why}; {INSTALL_HINT}");
    }
    eprintln!(
        "\n!!!! SKIPPED a PostgreSQL test: {why}\n!!!! {INSTALL_HINT}\n!!!! (in CI this is a failure)\n"
    );
    None
}

/// The admin URL of the shared server, started on first use.
fn shared_server() -> Result<&'static String, String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Some(url) = std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
            {
                return Ok(url);
            }
            let local = LocalServer::start()?;
            local.watch_parent_process()?;
            Ok(local.admin_url())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Creates a uniquely named database through `admin_url` and returns its URL.
async fn create_database(admin_url: &str) -> TestPostgres {
    let database = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut last_error = None;
    // The server may still be finishing its start-up: a few bounded attempts.
    for _ in 0..20 {
        match PgConnection::connect(admin_url).await {
            Ok(mut admin) => {
                sqlx::query(&format!("CREATE DATABASE \"{database}\""))
                    .execute(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("creating test database {database}: {e}"));
                let _ = admin.close().await;
                return TestPostgres {
                    url: replace_database(admin_url, &database),
                    database,
                };
            }
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("cannot connect to the test PostgreSQL server: {last_error:?}")
}

/// `admin_url` with its database path replaced by `database`.
fn replace_database(admin_url: &str, database: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A server started from the installed binaries in a temporary folder.
#[derive(Debug)]
struct LocalServer {
    programs: Programs,
    dir: PathBuf,
    port: u16,
    /// TLS on, and a password required over TCP.
    tls: bool,
}

/// The `postgres` user's password on TLS test servers (throwaway servers on 127.0.0.1).
const TLS_SERVER_PASSWORD: &str = "test-only-password";

impl LocalServer {
    fn start() -> Result<Self, String> {
        Self::start_with(false)
    }

    fn start_with(tls: bool) -> Result<Self, String> {
        Self::start_inner(tls).map_err(|e| format!("{e:#}"))
    }

    fn start_inner(tls: bool) -> anyhow::Result<Self> {
        let programs = Programs::find()?;
        let dir = tempfile::Builder::new()
            .prefix("todo-test-pg-")
            .tempdir()
            .map_err(|e| anyhow::anyhow!("creating a temporary folder: {e}"))?
            .keep();
        programs.give_to_postgres(&dir)?;
        let server = Self {
            programs,
            dir,
            port: free_port()?,
            tls,
        };
        let mut auth = Vec::new();
        if tls {
            let password_file = server.dir.join("password");
            std::fs::write(&password_file, TLS_SERVER_PASSWORD)
                .map_err(|e| anyhow::anyhow!("writing the password file: {e}"))?;
            server.programs.give_to_postgres(&password_file)?;
            auth.extend([
                "--auth-local=trust".to_owned(),
                "--auth-host=scram-sha-256".to_owned(),
                format!("--pwfile={}", password_file.display()),
            ]);
            server.make_certificate()?;
        } else {
            auth.push("--auth=trust".to_owned());
        }
        server.programs.initdb(&server.data_dir(), &auth)?;
        server.start_server()?;
        Ok(server)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn admin_url(&self) -> String {
        if self.tls {
            format!(
                "postgres://postgres:{TLS_SERVER_PASSWORD}@localhost:{}/postgres?sslmode=require",
                self.port
            )
        } else {
            format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
        }
    }

    /// A self-signed certificate for `localhost`, valid for a day.
    fn make_certificate(&self) -> anyhow::Result<()> {
        let (cert, key) = (self.dir.join("server.crt"), self.dir.join("server.key"));
        let mut openssl = Command::new("openssl");
        openssl
            .args([
                "req",
                "-new",
                "-x509",
                "-days",
                "1",
                "-nodes",
                "-subj",
                "/CN=localhost",
            ])
            .args([
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert);
        run(&mut openssl, "openssl (making a test certificate)")?;
        self.programs.give_to_postgres(&cert)?;
        self.programs.give_to_postgres(&key)?;
        run(
            Command::new("chmod").arg("600").arg(&key),
            "chmod the test key",
        )
    }

    fn start_server(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let options = if self.tls {
            format!(
                "{options} -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key",
                dir = self.dir.display()
            )
        } else {
            options
        };
        self.programs
            .start(&self.data_dir(), &options, &self.dir.join("server.log"))
    }

    /// Spawns a watchdog that stops the server and deletes its folder once this process is
    /// gone (the shared server lives in a static and is never dropped).
    fn watch_parent_process(&self) -> Result<(), String> {
        let stop = self.programs.immediate_stop_words(&self.data_dir());
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("starting the server watchdog: {e}"))
    }
}

fn free_port() -> anyhow::Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| anyhow::anyhow!("finding a free port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_replace_the_path_and_keep_the_query() {
        assert_eq!(
            replace_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "t2"), "postgres://h/t2");
    }
}
