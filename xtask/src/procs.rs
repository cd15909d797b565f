//! Servers run as background processes (by `bench`, `lint` and `up --target local`): started
//! with their output in a log file, waited for, measured, and stopped with their whole process
//! tree (uvicorn forks workers).
//!
//! They stay in the xtask's process group on purpose: a Ctrl-C at the terminal reaches the
//! whole foreground group, so a benchmark interrupted before it could clean up leaves no server
//! behind. In a group of their own they would outlive an interrupted xtask. So the tree is read
//! from /proc (also what the memory sampler adds up) and signalled pid by pid.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use rustix::process::{Pid, Signal, kill_process};

/// A running server process and where it listens.
pub struct Server {
    pub name: String,
    pub base_url: String,
    handle: duct::Handle,
    log: PathBuf,
}

impl Server {
    /// Starts `expression` with its output in `log`.
    pub fn start(
        name: &str,
        expression: duct::Expression,
        port: u16,
        log: &Path,
    ) -> anyhow::Result<Self> {
        // duct applies the outer redirection first: stderr joins stdout, then both go to the log.
        let handle = expression
            .stderr_to_stdout()
            .stdout_path(log)
            .stdin_null()
            .unchecked()
            .start()
            .with_context(|| format!("starting {name}"))?;
        Ok(Self {
            name: name.to_owned(),
            base_url: format!("http://127.0.0.1:{port}"),
            handle,
            log: log.to_owned(),
        })
    }

    /// Waits (at most `limit`) for `path` to answer 2xx; on failure shows the server's last log lines.
    pub async fn wait_ready(
        &self,
        client: &reqwest::Client,
        path: &str,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base_url);
        let every = Duration::from_millis(100);
        crate::http::wait_until_ok(client, &url, limit, every, async || match self.exited() {
            Some(status) => bail!("{} exited with {status} before it was ready", self.name),
            None => Ok(()),
        })
        .await
        .with_context(|| format!("{} was not ready; its log:\n{}", self.name, self.log_tail()))?;
        Ok(())
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Whether the process has exited (with its status), without waiting.
    pub fn exited(&self) -> Option<String> {
        match self.handle.try_wait() {
            Ok(Some(output)) => Some(output.status.to_string()),
            Ok(None) => None,
            Err(err) => Some(err.to_string()),
        }
    }

    /// Samples the resident memory of the whole process tree every 100 ms until the returned
    /// guard is finished; the guard reports the peak in MiB.
    pub fn sample_memory(&self) -> MemorySampler {
        let roots = self.handle.pids();
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, peak_kib) = (stop.clone(), peak_kib.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let total: u64 = process_tree(&roots).iter().map(|pid| rss_kib(*pid)).sum();
                    peak_kib.fetch_max(total, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        MemorySampler {
            stop,
            peak_kib,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM the tree (uvicorn's master stops its workers), then make sure.
        let tree = process_tree(&self.handle.pids());
        signal_each(&tree, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && tree.iter().any(|pid| is_alive(*pid)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Those of the first reading too: a child whose parent is gone now has another parent
        // (init) and would no longer be found from the roots.
        let mut rest = process_tree(&self.handle.pids());
        rest.extend(tree.iter().filter(|pid| is_alive(**pid)));
        signal_each(&rest, Signal::KILL);
        let _ = self.handle.kill();
    }
}

/// Samples memory in a thread until finished.
pub struct MemorySampler {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MemorySampler {
    /// Stops sampling and returns the peak resident memory in MiB.
    pub fn finish(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

/// Sends `signal` to each of `pids`; one already gone is skipped.
fn signal_each(pids: &[u32], signal: Signal) {
    for pid in pids
        .iter()
        .filter_map(|pid| Pid::from_raw(i32::try_from(*pid).ok()?))
    {
        let _ = kill_process(pid, signal);
    }
}

/// Whether `pid` still exists (a zombie not yet reaped counts as gone).
fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, after)| after.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

/// `roots` and all their descendants, read from /proc.
fn process_tree(roots: &[u32]) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces; the parent pid is the second field after ')'.
            let after_name = stat.rsplit_once(')')?.1;
            let ppid = after_name.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut tree: Vec<u32> = roots.to_vec();
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        index += 1;
    }
    tree
}

/// Resident memory of one process in KiB (0 once it is gone).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener
        .local_addr()
        .context("reading the free port")?
        .port())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_server_log_holds_both_its_output_and_its_errors() {
        let work = tempfile::tempdir().unwrap();
        let log = work.path().join("server.log");
        let script = "echo to-stdout; echo to-stderr >&2";
        let server = Server::start("sh", duct::cmd!("sh", "-c", script), 1, &log).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.exited().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("to-stdout") && text.contains("to-stderr"),
            "{text}"
        );
        assert!(server.log_tail().contains("to-stderr"));
    }

    /// Dropping a server stops its children too (uvicorn's workers), a child that ignores
    /// SIGTERM included.
    #[test]
    fn dropping_a_server_stops_its_whole_process_tree() {
        let work = tempfile::tempdir().unwrap();
        let log = work.path().join("server.log");
        let script = "sleep 300 & (trap '' TERM; sleep 300) & wait";
        let server = Server::start("tree", duct::cmd!("sh", "-c", script), 1, &log).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut tree = process_tree(&server.handle.pids());
        while tree.len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            tree = process_tree(&server.handle.pids());
        }
        assert!(tree.len() >= 3, "sh and its two sleeps: {tree:?}");
        assert!(tree.iter().all(|pid| is_alive(*pid)));
        drop(server);
        // SIGKILL is delivered when the process is next scheduled: a bounded wait for that.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut alive: Vec<_> = tree.iter().filter(|pid| is_alive(**pid)).collect();
        while !alive.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            alive.retain(|pid| is_alive(**pid));
        }
        assert!(alive.is_empty(), "still running after the drop: {alive:?}");
    }
}
