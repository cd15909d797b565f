//! `cargo xtask dev`: the inner loop. It runs `up`, then watches the sources: each saved change
//! (after a short quiet time) runs the same `up` again, which rebuilds with the `stack` Cargo
//! profile and replaces only the service whose image changed (a change that leaves an image's
//! bytes as they were replaces nothing), while the services' logs stream.
//!
//! A failed build leaves the running stack as it was; the next save tries again. Ctrl-C stops
//! watching and leaves the stack running (`cargo xtask down` stops it).

use std::{
    path::{Path, PathBuf},
    sync::mpsc,
    time::{Duration, Instant},
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
        loop {
            let started = Instant::now();
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
            cause = next_change(&changes, &root)?;
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

/// Waits for the next batch of saved files that the stack is built from; names the first.
fn next_change(
    changes: &mpsc::Receiver<DebounceEventResult>,
    root: &Path,
) -> anyhow::Result<String> {
    loop {
        let batch = changes
            .recv()
            .context("the file watcher stopped")?
            .context("the file watcher failed")?;
        let relevant: Vec<PathBuf> = batch
            .into_iter()
            .map(|event| event.path)
            .filter(|path| is_source(path))
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
        || name == "4913")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(!is_source(Path::new(scratch)), "{scratch}");
        }
    }
}
