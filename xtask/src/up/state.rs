//! What `up` last started, kept in `target/up/stack.toml`, so `down`, `status`, `logs` and
//! `test-e2e` work on whatever target is up without repeating its flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::project;

/// The stack `up` started last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    /// `minikube`, `kube`, `docker` or `local`.
    pub target: String,
    /// Helm release and namespace (cluster targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Where the UI answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_url: Option<String>,
    /// What the Helm release was installed with (cluster targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_inputs: Option<ReleaseInputs>,
    /// The PostgreSQL server `up --postgres` runs for the stack (docker target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<crate::postgres::Server>,
    /// Where the Prometheus and Alertmanager of `up --monitoring` answer (docker target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<crate::monitoring::Urls>,
}

/// The inputs of the Helm release `up` installed, so `test-e2e --rolling` can upgrade it with
/// one image changed and nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInputs {
    /// The registry the images were pushed to (kube target; none on Minikube).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
}

impl ReleaseInputs {
    pub fn of(release: &crate::helm::release::Release, registry: Option<&str>) -> Self {
        Self {
            registry: registry.map(str::to_owned),
            values: release.values_files.clone(),
            set: release.set.clone(),
            set_string: release.set_string.clone(),
        }
    }
}

/// `target/up/stack.toml`, or the file `XTASK_STACK_FILE` names (the test suites record their
/// own stacks there, leaving a developer's untouched).
fn path() -> PathBuf {
    std::env::var_os(STACK_FILE_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(|| project::root().join("target").join("up").join("stack.toml"))
}

pub const STACK_FILE_VARIABLE: &str = "XTASK_STACK_FILE";

/// The folder of the stack record, where what the stack keeps on this machine goes too (the
/// files of `up --postgres`'s server).
pub fn folder() -> PathBuf {
    let record = path();
    record
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| project::root().join("target").join("up"))
}

impl Stack {
    /// The stack `up` recorded, if any.
    pub fn load() -> anyhow::Result<Option<Self>> {
        Self::load_from(&path())
    }

    pub fn load_from(path: &Path) -> anyhow::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map(Some).with_context(|| {
                format!(
                    "{} is not a stack record; delete it and run `cargo xtask up` again",
                    path.display()
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self) -> anyhow::Result<()> {
        self.save_to(&path())
    }

    fn save_to(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = toml::to_string(self).context("encoding the stack record")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// Forgets the stack (after `down`).
    pub fn forget() -> anyhow::Result<()> {
        match std::fs::remove_file(path()) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(err).with_context(|| format!("removing {}", path().display()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_saved_stack_reads_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("up").join("stack.toml");
        assert_eq!(Stack::load_from(&path).unwrap(), None);
        let stack = Stack {
            target: "kube".into(),
            release: Some("todo".into()),
            namespace: Some("apps".into()),
            kubeconfig: Some("/k/config".into()),
            context: None,
            ui_url: Some("http://127.0.0.1:30080".into()),
            release_inputs: Some(ReleaseInputs {
                registry: Some("localhost:5000".into()),
                values: vec!["/chart/values-minikube.yaml".into()],
                set: vec!["config.logLevel=debug".into()],
                set_string: vec!["image.tag=abc1234".into()],
            }),
            database: None,
            monitoring: Some(crate::monitoring::Urls {
                prometheus: "http://127.0.0.1:9090".into(),
                alertmanager: None,
            }),
        };
        stack.save_to(&path).unwrap();
        assert_eq!(Stack::load_from(&path).unwrap(), Some(stack));
    }

    #[test]
    fn a_damaged_record_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.toml");
        std::fs::write(&path, "target = [").unwrap();
        let err = format!("{:#}", Stack::load_from(&path).unwrap_err());
        assert!(err.contains("run `cargo xtask up` again"), "{err}");
    }
}
