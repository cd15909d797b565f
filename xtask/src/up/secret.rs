//! The stack's auth secret for the docker and local targets: generated once, kept in
//! `target/up/auth-secret` (mode 600, never in the repository) so tokens survive a re-run.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::PathBuf};

use anyhow::Context;

use crate::project;

fn path() -> PathBuf {
    project::root()
        .join("target")
        .join("up")
        .join("auth-secret")
}

/// Reads the kept secret, or makes and keeps a new one.
pub fn auth_secret() -> anyhow::Result<String> {
    let path = path();
    if let Ok(text) = std::fs::read_to_string(&path)
        && text.trim().len() >= todo_config::backend::MIN_SECRET_BYTES
    {
        return Ok(text.trim().to_owned());
    }
    let secret = crate::tokens::random_secret();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}
