//! The installed PostgreSQL's server programs (`initdb`, `pg_ctl`, `createdb`), written once for
//! every throwaway server the project starts: the test kit's shared and private servers, the
//! benchmarks' and the Kubernetes suite's, and the one `up --postgres` keeps for a stack.
//!
//! The programs refuse to run as root, so when this process is root they run as the `postgres`
//! user through `runuser`, and the folders they write are handed to that user first. Each
//! caller keeps its own policy (authentication, addresses, when to stop); this crate only runs
//! the programs, with bounded waits and an error that carries what the program printed.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

/// What to do when no server binaries are found, for error messages.
pub const INSTALL_HINT: &str = "PostgreSQL server binaries are not installed: apt-get install -y postgresql (or set PG_BIN_DIR)";

/// `PG_BIN_DIR` if set, else the newest `/usr/lib/postgresql/<major>/bin` that has `initdb`,
/// versions compared as numbers (16 is newer than 9).
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    newest_bin_dir(Path::new("/usr/lib/postgresql"))
}

/// The newest `<root>/<major>/bin` with an `initdb`.
fn newest_bin_dir(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major = entry
                .file_name()
                .to_str()?
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

/// Whether this process runs as root (uid 0), read from `/proc/self/status`.
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

/// The server programs of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programs {
    bin: PathBuf,
    as_postgres_user: bool,
}

impl Programs {
    /// The installation [`bin_dir`] finds.
    pub fn find() -> anyhow::Result<Self> {
        bin_dir().map(Self::at).context(INSTALL_HINT)
    }

    /// The installation whose programs are in `bin`.
    pub fn at(bin: PathBuf) -> Self {
        Self {
            bin,
            as_postgres_user: running_as_root(),
        }
    }

    /// The folder of the programs.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// A server program, as the `postgres` user when this process is root.
    pub fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// Hands `path` (recursively) to the `postgres` user when the programs run as that user,
    /// so they can write it.
    pub fn give_to_postgres(&self, path: &Path) -> anyhow::Result<()> {
        if self.as_postgres_user {
            run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(path),
                "chown to postgres",
            )?;
        }
        Ok(())
    }

    /// `initdb` of a new cluster in `data` (superuser `postgres`, UTF-8, no fsync), with
    /// `options` for authentication (`--auth=trust`, say).
    pub fn initdb<S: AsRef<OsStr>>(&self, data: &Path, options: &[S]) -> anyhow::Result<()> {
        let mut initdb = self.command("initdb");
        initdb
            .arg("-D")
            .arg(data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .args(options);
        run(&mut initdb, "initdb")
    }

    /// `pg_ctl start` of the cluster in `data` with the server `options`, its log in `log`,
    /// waiting up to 30 s for it to accept connections.
    pub fn start(&self, data: &Path, options: &str, log: &Path) -> anyhow::Result<()> {
        let mut start = self.pg_ctl(data);
        start
            .args(["-o", options, "-l"])
            .arg(log)
            .args(["-w", "-t", "30", "start"]);
        run(&mut start, "pg_ctl start")
            .with_context(|| format!("starting PostgreSQL (its log: {})", log.display()))
    }

    /// `pg_ctl stop` with `mode` (`fast`: sessions are ended; `immediate`: no clean shutdown),
    /// waiting up to 30 s for the server to be down.
    pub fn stop(&self, data: &Path, mode: &str) -> anyhow::Result<()> {
        let mut stop = self.pg_ctl(data);
        stop.args(["-m", mode, "-w", "-t", "30", "stop"]);
        run(&mut stop, "pg_ctl stop").context("stopping PostgreSQL")
    }

    /// Whether the cluster in `data` runs (`pg_ctl status`).
    pub fn is_running(&self, data: &Path) -> bool {
        let mut status = self.pg_ctl(data);
        status.arg("status");
        run(&mut status, "pg_ctl status").is_ok()
    }

    /// `createdb name` through the socket in `socket_dir` on `port`.
    pub fn createdb(&self, socket_dir: &Path, port: u16, name: &str) -> anyhow::Result<()> {
        let mut createdb = self.command("createdb");
        createdb
            .arg("-h")
            .arg(socket_dir)
            .args(["-p", &port.to_string(), "-U", "postgres", name]);
        run(&mut createdb, "createdb").with_context(|| format!("creating database {name}"))
    }

    /// The shell words of `pg_ctl stop -m immediate` for the cluster in `data`, for a watchdog
    /// script that outlives this process.
    pub fn immediate_stop_words(&self, data: &Path) -> String {
        let mut stop = self.pg_ctl(data);
        stop.args(["-m", "immediate", "-w", "-t", "10", "stop"]);
        std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|word| word.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn pg_ctl(&self, data: &Path) -> Command {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.arg("-D").arg(data);
        pg_ctl
    }
}

/// Runs `command` to its end with no input; an error carries its exit status and output.
pub fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{what} cannot start ({:?})", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_newest_major_version_wins_compared_as_numbers() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "16", "15", "17"] {
            let bin = root.path().join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            // 17 has no initdb: a client-only install is not a server.
            if version != "17" {
                std::fs::write(bin.join("initdb"), "").unwrap();
            }
        }
        std::fs::create_dir_all(root.path().join("common")).unwrap();
        assert_eq!(
            newest_bin_dir(root.path()),
            Some(root.path().join("16").join("bin"))
        );
        assert_eq!(newest_bin_dir(&root.path().join("missing")), None);
    }

    #[test]
    fn a_failed_program_says_what_failed_and_what_it_printed() {
        let err = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            "the probe",
        )
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("the probe failed"), "{message}");
        assert!(
            message.contains("out") && message.contains("err"),
            "{message}"
        );
        let missing = run(&mut Command::new("/nonexistent/program"), "the ghost").unwrap_err();
        assert!(format!("{missing:#}").contains("the ghost cannot start"));
    }

    /// A real server from the installed binaries: initdb, start, createdb, stop. Skipped
    /// loudly without them outside CI, a failure in CI.
    #[test]
    fn a_throwaway_server_starts_takes_a_database_and_stops() {
        let Some(bin) = bin_dir() else {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                "{INSTALL_HINT}"
            );
            eprintln!("!!!! SKIPPED: {INSTALL_HINT}");
            return;
        };
        let programs = Programs::at(bin);
        let root = tempfile::tempdir().unwrap();
        programs.give_to_postgres(root.path()).unwrap();
        let data = root.path().join("data");
        programs.initdb(&data, &["--auth=trust"]).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            root.path().display()
        );
        programs
            .start(&data, &options, &root.path().join("server.log"))
            .unwrap();
        assert!(programs.is_running(&data));
        programs.createdb(root.path(), port, "probe").unwrap();
        let again = programs.createdb(root.path(), port, "probe").unwrap_err();
        assert!(format!("{again:#}").contains("already exists"), "{again:#}");
        programs.stop(&data, "fast").unwrap();
        assert!(!programs.is_running(&data));
    }
}
