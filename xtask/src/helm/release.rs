//! A release on a cluster: `helm upgrade --install`, `status`, `rollback`, `uninstall` and
//! `test`, through the `helm` binary where it is installed, otherwise through Helm's Go SDK
//! (`deploy/tools/helm_engine.py` in the tools venv). Both engines get their arguments from the
//! same [`Release`], so what is installed does not depend on which one ran.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use serde::Deserialize;
use xshell::{Shell, cmd};

use crate::pytools;

/// Which Helm runs the release actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// The `helm` binary (Helm 3 or 4).
    Cli(PathBuf),
    /// Helm's Go SDK through the venv's Python and the driver script.
    Sdk { python: PathBuf, driver: PathBuf },
}

impl Engine {
    /// `helm` on PATH, else the SDK in the tools venv, else an error that says how to get either.
    pub fn detect() -> anyhow::Result<Self> {
        if let Ok(helm) = which::which("helm") {
            return Ok(Self::Cli(helm));
        }
        let python = pytools::tool("python").context(
            "no Helm: install the `helm` binary (https://helm.sh/docs/intro/install/), \
             or the project's Helm engine with `cargo xtask doctor --install`",
        )?;
        Ok(Self::Sdk {
            python,
            driver: super::driver(),
        })
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Cli(_) => "helm binary",
            Self::Sdk { .. } => "Helm Go SDK (helm-python-sdk)",
        }
    }
}

/// Where the cluster is: a kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`) and a
/// context in it (default: its current context).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// One release of the chart and everything that decides what it installs.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    pub cluster: Cluster,
    pub chart: PathBuf,
    /// `-f` files, in order (later ones win).
    pub values_files: Vec<PathBuf>,
    /// `--set KEY=VALUE`, typed as Helm types them (`true`, numbers).
    pub set: Vec<String>,
    /// `--set-string KEY=VALUE`, always strings: image tags (a commit hash such as `1234567`
    /// must not become a number).
    pub set_string: Vec<String>,
    /// Bound on Helm's own waits (hooks such as the migration Job, uninstall).
    pub timeout: Duration,
}

/// A release as `helm status` reports it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Status {
    pub revision: u32,
    /// `deployed`, `failed`, `pending-install`, `pending-upgrade`, `superseded`, ...
    pub status: String,
}

/// What the two engines are asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Upgrade,
    Status,
    Rollback(u32),
    Uninstall,
    Test,
}

impl Release {
    /// `helm upgrade --install`, creating the namespace; waits for hooks, not for the rollout
    /// (the xtask watches that itself, with diagnosis). Returns the new revision.
    pub fn upgrade_install(&self, sh: &Shell, engine: &Engine) -> anyhow::Result<Status> {
        self.run(sh, engine, Action::Upgrade)
            .with_context(|| format!("helm upgrade --install {}", self.name))?;
        self.status(sh, engine)?
            .with_context(|| format!("release {} is not there after installing it", self.name))
    }

    /// The release's current revision and state; `None` when it is not installed.
    pub fn status(&self, sh: &Shell, engine: &Engine) -> anyhow::Result<Option<Status>> {
        match self.run(sh, engine, Action::Status) {
            Ok(output) => parse_status(engine, &output),
            // The CLI says so with an error; the driver prints `null`.
            Err(err) if format!("{err:#}").contains("release: not found") => Ok(None),
            Err(err) => Err(err.context(format!("helm status {}", self.name))),
        }
    }

    /// `helm rollback` to `revision`.
    pub fn rollback(&self, sh: &Shell, engine: &Engine, revision: u32) -> anyhow::Result<()> {
        self.run(sh, engine, Action::Rollback(revision))
            .with_context(|| format!("helm rollback {} {revision}", self.name))?;
        Ok(())
    }

    /// `helm uninstall --ignore-not-found --wait`.
    pub fn uninstall(&self, sh: &Shell, engine: &Engine) -> anyhow::Result<()> {
        self.run(sh, engine, Action::Uninstall)
            .with_context(|| format!("helm uninstall {}", self.name))?;
        Ok(())
    }

    /// `helm test --logs`: the test pods' logs on success; the error carries Helm's message.
    pub fn test(&self, sh: &Shell, engine: &Engine) -> anyhow::Result<String> {
        let output = self
            .run(sh, engine, Action::Test)
            .with_context(|| format!("helm test {}", self.name))?;
        match engine {
            Engine::Cli(_) => Ok(output),
            Engine::Sdk { .. } => {
                #[derive(Deserialize)]
                struct Logs {
                    logs: String,
                }
                let logs: Logs =
                    serde_json::from_str(&output).context("reading the Helm SDK's test result")?;
                Ok(logs.logs)
            }
        }
    }

    fn run(&self, sh: &Shell, engine: &Engine, action: Action) -> anyhow::Result<String> {
        let (program, args) = match engine {
            Engine::Cli(helm) => (helm.clone(), self.cli_args(action)),
            Engine::Sdk { python, driver } => {
                let mut args = vec![driver.display().to_string()];
                args.extend(self.sdk_args(action));
                (python.clone(), args)
            }
        };
        let output = cmd!(sh, "{program} {args...}")
            .quiet()
            .ignore_status()
            .output()
            .with_context(|| format!("running {}", program.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("{}", last_lines(&format!("{stdout}\n{stderr}"), 20));
        }
        Ok(stdout)
    }

    fn timeout_seconds(&self) -> u64 {
        self.timeout.as_secs().max(1)
    }

    /// The `helm` command line for `action`.
    fn cli_args(&self, action: Action) -> Vec<String> {
        let mut args: Vec<String> = match action {
            Action::Upgrade => {
                let mut args = vec![
                    "upgrade".into(),
                    "--install".into(),
                    self.name.clone(),
                    self.chart.display().to_string(),
                    "--create-namespace".into(),
                ];
                args.extend(self.value_args("-f"));
                args
            }
            Action::Status => vec![
                "status".into(),
                self.name.clone(),
                "-o".into(),
                "json".into(),
            ],
            Action::Rollback(revision) => vec![
                "rollback".into(),
                self.name.clone(),
                revision.to_string(),
                "--wait".into(),
            ],
            Action::Uninstall => vec![
                "uninstall".into(),
                self.name.clone(),
                "--ignore-not-found".into(),
                "--wait".into(),
            ],
            Action::Test => vec!["test".into(), self.name.clone(), "--logs".into()],
        };
        args.extend(["--namespace".into(), self.namespace.clone()]);
        if action != Action::Status {
            args.extend(["--timeout".into(), format!("{}s", self.timeout_seconds())]);
        }
        if let Some(kubeconfig) = &self.cluster.kubeconfig {
            args.extend(["--kubeconfig".into(), kubeconfig.display().to_string()]);
        }
        if let Some(context) = &self.cluster.context {
            args.extend(["--kube-context".into(), context.clone()]);
        }
        args
    }

    /// The driver's command line for `action` (after the script's path).
    fn sdk_args(&self, action: Action) -> Vec<String> {
        let mut args: Vec<String> = match action {
            Action::Upgrade => {
                let mut args = vec![
                    "upgrade".into(),
                    "--chart".into(),
                    self.chart.display().to_string(),
                ];
                args.extend(self.value_args("--values"));
                args
            }
            Action::Status => vec!["status".into()],
            Action::Rollback(revision) => {
                vec!["rollback".into(), "--revision".into(), revision.to_string()]
            }
            Action::Uninstall => vec!["uninstall".into()],
            Action::Test => vec!["test".into()],
        };
        args.extend([
            "--name".into(),
            self.name.clone(),
            "--namespace".into(),
            self.namespace.clone(),
            "--timeout".into(),
            self.timeout_seconds().to_string(),
        ]);
        if let Some(kubeconfig) = &self.cluster.kubeconfig {
            args.extend(["--kubeconfig".into(), kubeconfig.display().to_string()]);
        }
        if let Some(context) = &self.cluster.context {
            args.extend(["--kube-context".into(), context.clone()]);
        }
        args
    }

    /// Values in Helm's precedence: files, then `--set`, then `--set-string`.
    fn value_args(&self, file_flag: &str) -> Vec<String> {
        let mut args = Vec::new();
        for file in &self.values_files {
            args.extend([file_flag.to_owned(), file.display().to_string()]);
        }
        for pair in &self.set {
            args.extend(["--set".to_owned(), pair.clone()]);
        }
        for pair in &self.set_string {
            args.extend(["--set-string".to_owned(), pair.clone()]);
        }
        args
    }
}

/// Reads `helm status -o json` (CLI: `version` and `info.status`, an error when not installed)
/// or the driver's summary (`revision`, `status`, `null` when not installed).
fn parse_status(engine: &Engine, output: &str) -> anyhow::Result<Option<Status>> {
    match engine {
        Engine::Sdk { .. } => {
            serde_json::from_str(output).context("reading the Helm SDK's release status")
        }
        Engine::Cli(_) => {
            #[derive(Deserialize)]
            struct CliStatus {
                version: u32,
                info: CliInfo,
            }
            #[derive(Deserialize)]
            struct CliInfo {
                status: String,
            }
            let parsed: CliStatus =
                serde_json::from_str(output).context("reading `helm status -o json`")?;
            Ok(Some(Status {
                revision: parsed.version,
                status: parsed.info.status,
            }))
        }
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.trim().lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn release() -> Release {
        Release {
            name: "todo".into(),
            namespace: "apps".into(),
            cluster: Cluster {
                kubeconfig: Some("/k/config".into()),
                context: Some("lab".into()),
            },
            chart: "/c/todo-chatbot".into(),
            values_files: vec!["/c/a.yaml".into(), "/c/b.yaml".into()],
            set: vec!["backend.replicaCount=2".into()],
            set_string: vec!["image.tag=1234567".into()],
            timeout: Duration::from_secs(120),
        }
    }

    #[test]
    fn cli_upgrade_keeps_files_in_order_and_the_tag_a_string() {
        let args = release().cli_args(Action::Upgrade);
        assert_eq!(
            args,
            [
                "upgrade",
                "--install",
                "todo",
                "/c/todo-chatbot",
                "--create-namespace",
                "-f",
                "/c/a.yaml",
                "-f",
                "/c/b.yaml",
                "--set",
                "backend.replicaCount=2",
                "--set-string",
                "image.tag=1234567",
                "--namespace",
                "apps",
                "--timeout",
                "120s",
                "--kubeconfig",
                "/k/config",
                "--kube-context",
                "lab",
            ]
        );
    }

    #[test]
    fn sdk_upgrade_gets_the_same_values_as_the_cli() {
        let release = release();
        let sdk = release.sdk_args(Action::Upgrade);
        let cli = release.cli_args(Action::Upgrade);
        let values = |args: &[String]| -> Vec<String> {
            args.windows(2)
                .filter(|w| ["-f", "--values", "--set", "--set-string"].contains(&w[0].as_str()))
                .map(|w| format!("{}={}", w[0].replace("-f", "--values"), w[1]))
                .collect()
        };
        assert_eq!(values(&sdk), values(&cli));
        assert!(sdk.starts_with(&["upgrade".into(), "--chart".into(), "/c/todo-chatbot".into()]));
        for flag in ["--kubeconfig", "--kube-context", "--namespace", "--name"] {
            assert!(sdk.contains(&flag.to_owned()), "{flag} missing: {sdk:?}");
        }
    }

    #[test]
    fn without_a_context_no_context_flag_is_passed() {
        let mut release = release();
        release.cluster = Cluster::default();
        for args in [
            release.cli_args(Action::Uninstall),
            release.sdk_args(Action::Uninstall),
        ] {
            assert!(!args.iter().any(|a| a.starts_with("--kube")), "{args:?}");
        }
    }

    #[test]
    fn rollback_names_the_revision_and_status_has_no_timeout() {
        let release = release();
        let args = release.cli_args(Action::Rollback(3));
        assert_eq!(&args[..4], ["rollback", "todo", "3", "--wait"]);
        assert!(
            !release
                .cli_args(Action::Status)
                .contains(&"--timeout".to_owned())
        );
    }

    #[test]
    fn status_of_both_engines_reads_the_same() {
        let cli = Engine::Cli("/usr/bin/helm".into());
        let sdk = Engine::Sdk {
            python: "python".into(),
            driver: "d.py".into(),
        };
        let want = Some(Status {
            revision: 4,
            status: "deployed".into(),
        });
        let from_cli = r#"{"name":"todo","version":4,"info":{"status":"deployed","notes":""}}"#;
        assert_eq!(parse_status(&cli, from_cli).unwrap(), want);
        let from_sdk = r#"{"name":"todo","revision":4,"status":"deployed","description":"x"}"#;
        assert_eq!(parse_status(&sdk, from_sdk).unwrap(), want);
        assert_eq!(parse_status(&sdk, "null").unwrap(), None);
    }
}
