//! `cargo xtask dev`: the inner loop. It runs `up`, then watches the sources: each saved change
//! (after a short quiet time) runs the same `up` again, which rebuilds with the `stack` Cargo
//! profile and replaces only the service whose image changed (a change that leaves an image's
//! bytes as they were replaces nothing), while the services' logs stream.
//!
//! A failed build leaves the running stack as it was; the next save tries again. Ctrl-C stops
//! watching and leaves the stack running (`cargo xtask down` stops it).

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::mpsc,
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context, bail};
use notify_debouncer_mini::{DebounceEventResult, new_debouncer, notify::RecursiveMode};
use xshell::Shell;

use crate::{
    project,
    up::{Target, Up},
};

/// What the running stack is built from, relative to the workspace's root.
const WATCHED: &[&str] = &[
    "services",
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "deploy/docker",
    "deploy/helm",
];

/// Run the stack and keep it in step with the sources: every saved change rebuilds and rolls
/// the service it touches, with the logs streaming.
#[derive(clap::Args)]
pub struct Dev {
    #[command(flatten)]
    up: Up,
    /// Quiet time after the last saved file before rebuilding, in milliseconds.
    #[arg(long, default_value_t = 300)]
    quiet_ms: u64,
    /// Don't stream the services' logs between rebuilds.
    #[arg(long)]
    no_logs: bool,
}

impl Dev {
    pub fn run(mut self, sh: &Shell) -> anyhow::Result<()> {
        let target = self.up.pin_target();
        if target == Target::Local {
            bail!(
                "`dev` replaces containers or pods: use --target docker, minikube or kube (the \
                 local target runs in the foreground; run `cargo xtask up --target local` again \
                 after an edit)"
            );
        }
        let root = project::root();
        let (sender, changes) = mpsc::channel();
        let mut watcher = new_debouncer(Duration::from_millis(self.quiet_ms), sender)
            .context("starting the file watcher")?;
        for watched in WATCHED {
            let path = root.join(watched);
            if path.exists() {
                watcher
                    .watcher()
                    .watch(&path, RecursiveMode::Recursive)
                    .with_context(|| format!("watching {}", path.display()))?;
            }
        }
        let mut logs: Option<duct::Handle> = None;
        let mut cause = "start".to_owned();
        let mut gone = HashSet::new();
        loop {
            let started = Instant::now();
            let built_from = SystemTime::now();
            println!("\n==> dev: up ({cause})");
            match self.up.clone().run(sh) {
                Ok(()) => {
                    println!(
                        "==> dev: up took {:.1} s after the change was seen",
                        started.elapsed().as_secs_f64()
                    );
                    if !self.no_logs {
                        logs = Some(follow_logs(logs.take())?);
                    }
                }
                Err(err) => eprintln!(
                    "==> dev: up failed, and the stack runs as it did before: {err:#}\n    save a \
                     fix and `dev` tries again"
                ),
            }
            println!(
                "==> dev: watching {} (Ctrl-C stops watching; the stack keeps running)",
                WATCHED.join(", ")
            );
            cause = next_change(&changes, &root, built_from, &mut gone)?;
        }
    }
}

/// (Re)starts `cargo xtask logs --follow` for the containers or pods that run now.
fn follow_logs(previous: Option<duct::Handle>) -> anyhow::Result<duct::Handle> {
    if let Some(handle) = previous {
        handle.kill().context("stopping the previous log stream")?;
    }
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    duct::cmd(xtask, ["logs", "--follow", "--tail", "5"])
        .unchecked()
        .start()
        .context("streaming the services' logs")
}

/// Waits for the next batch of files that the stack is built from and that were saved (or
/// removed) after `since`, when the last `up` began; names the first. The watcher also reports
/// files that were only read (by that `up`'s own build): their times tell them apart. A removed
/// file counts once (`gone` remembers it) and only with an extension: tools that save by
/// renaming (sed -i, some editors) remove a scratch file without one.
fn next_change(
    changes: &mpsc::Receiver<DebounceEventResult>,
    root: &Path,
    since: SystemTime,
    gone: &mut HashSet<PathBuf>,
) -> anyhow::Result<String> {
    loop {
        let batch = changes
            .recv()
            .context("the file watcher stopped")?
            .context("the file watcher failed")?;
        let relevant: Vec<PathBuf> = batch
            .into_iter()
            .map(|event| event.path)
            .filter(|path| is_source(path) && changed_since(path, since))
            .filter(|path| {
                path.exists() || (path.extension().is_some() && gone.insert(path.clone()))
            })
            .collect();
        if let Some(first) = relevant.first() {
            let shown = first.strip_prefix(root).unwrap_or(first).display();
            return Ok(match relevant.len() {
                1 => format!("{shown} changed"),
                n => format!("{shown} and {} other files changed", n - 1),
            });
        }
    }
}

/// True when the file was written at or after `since`, or is gone.
fn changed_since(path: &Path, since: SystemTime) -> bool {
    match std::fs::metadata(path) {
        Ok(metadata) => metadata
            .modified()
            .map_or(true, |modified| modified >= since),
        Err(_) => true,
    }
}

/// False for build output and for the scratch files editors write beside the ones they save.
fn is_source(path: &Path) -> bool {
    if path.components().any(|c| c.as_os_str() == "target") {
        return false;
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    !(name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".#")
        || name.ends_with("___jb_tmp___")
        || name == "4913")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_file_only_read_since_is_no_change_but_one_written_or_removed_is() {
        let folder = tempfile::tempdir().unwrap();
        let read = folder.path().join("read.rs");
        std::fs::write(&read, "fn main() {}").unwrap();
        let since = SystemTime::now() + Duration::from_millis(10);
        std::thread::sleep(Duration::from_millis(30));
        let _ = std::fs::read_to_string(&read).unwrap();
        assert!(!changed_since(&read, since), "read only");
        let written = folder.path().join("written.rs");
        std::fs::write(&written, "fn main() {}").unwrap();
        assert!(changed_since(&written, since), "written");
        assert!(
            changed_since(&folder.path().join("gone.rs"), since),
            "removed"
        );
    }

    #[test]
    fn sources_are_told_from_build_output_and_editor_scratch_files() {
        for source in [
            "/w/services/backend/src/main.rs",
            "/w/Cargo.lock",
            "/w/services/frontend/assets/app.css",
        ] {
            assert!(is_source(Path::new(source)), "{source}");
        }
        for scratch in [
            "/w/services/backend/target/debug/x",
            "/w/services/backend/src/.main.rs.swp",
            "/w/services/backend/src/main.rs~",
            "/w/services/backend/src/.#main.rs",
            "/w/services/backend/src/4913",
            "/w/services/backend/src/main.rs___jb_tmp___",
        ] {
            assert!(!is_source(Path::new(scratch)), "{scratch}");
        }
    }
}
