//! Where things are in the repository, and the rules every command shares (CI strictness,
//! finding tools).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The repository root: the parent of this crate's manifest directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `deploy/`: Dockerfiles, the Helm chart, plain manifests, tool pins.
pub fn deploy_dir() -> PathBuf {
    root().join("deploy")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the repository root) or `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root().join(dir))
        .unwrap_or_else(|| root().join("target"))
}

/// A whole number above 0 from the environment variable `name`, if it is set; an error that
/// names the variable if it is not such a number.
pub fn positive_env(name: &str) -> anyhow::Result<Option<u64>> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .with_context(|| format!("{name}={value:?} is not a whole number above 0")),
        Err(_) => Ok(None),
    }
}

/// True when running in CI (`CI=true`): there, nothing may be skipped for a missing tool.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds `tool` on PATH, or explains how to install it.
pub fn require_tool(tool: &str, install_hint: &str) -> anyhow::Result<PathBuf> {
    which::which(tool)
        .with_context(|| format!("`{tool}` is not installed; install it with: {install_hint}"))
}

/// Decides what happens when a suite cannot run because something it needs is missing:
/// in CI that is a failure; elsewhere the suite is skipped, loudly.
pub fn skip_or_fail(suite: &str, why: &str) -> anyhow::Result<Outcome> {
    if in_ci() {
        bail!("suite `{suite}` cannot run in CI: {why}");
    }
    eprintln!();
    eprintln!("!!!! SKIPPED suite `{suite}`: {why}");
    eprintln!("!!!! (in CI this is a failure)");
    eprintln!();
    Ok(Outcome::Skipped)
}

/// What became of one suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Skipped,
}
