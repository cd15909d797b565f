//! The Python tools venv (`./.venv`): the real Helm engine (helm-python-sdk), kubernetes-validate,
//! checkov, hadolint and schemathesis, pinned in `deploy/tools/requirements.txt`.

use std::path::PathBuf;

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::project;

/// The venv's folder.
pub fn venv_dir() -> PathBuf {
    project::root().join(".venv")
}

/// A program installed in the venv (`python`, `checkov`, `hadolint`, `kubernetes-validate`).
pub fn venv_bin(program: &str) -> PathBuf {
    venv_dir().join("bin").join(program)
}

/// The pinned requirements file.
pub fn requirements() -> PathBuf {
    project::deploy_dir().join("tools").join("requirements.txt")
}

/// True when the venv has every pinned tool.
pub fn is_installed() -> bool {
    [
        "python",
        "checkov",
        "hadolint",
        "kubernetes-validate",
        "schemathesis",
    ]
    .iter()
    .all(|p| venv_bin(p).exists())
}

/// Returns the venv's program if the venv is complete, with the command that installs it if not.
pub fn tool(program: &str) -> anyhow::Result<PathBuf> {
    let path = venv_bin(program);
    if path.exists() && is_installed() {
        Ok(path)
    } else {
        anyhow::bail!(
            "the Python tools venv is missing `{program}`; install it with `cargo xtask doctor --install`"
        )
    }
}

/// Creates `./.venv` and installs the pinned tools (idempotent: pip skips what is there).
pub fn install(sh: &Shell) -> anyhow::Result<()> {
    let python = project::require_tool("python3", "apt-get install -y python3 python3-venv")?;
    let venv = venv_dir();
    if !venv_bin("python").exists() {
        cmd!(sh, "{python} -m venv {venv}")
            .run()
            .context("creating the Python venv")?;
    }
    let pip = venv_bin("pip");
    let reqs = requirements();
    cmd!(
        sh,
        "{pip} install --quiet --disable-pip-version-check -r {reqs}"
    )
    .run()
    .context("installing the pinned Python tools")?;
    Ok(())
}
