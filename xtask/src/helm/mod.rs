//! The chart and the Helm engine: the real `helm` binary when it is on PATH, otherwise Helm's Go
//! SDK from PyPI (helm-python-sdk) through `deploy/tools/helm_engine.py`. This module renders and
//! lints offline (`cargo xtask lint`, `manifests`); [`release`] installs on a cluster (`up`).

pub mod release;

use std::{collections::BTreeMap, path::PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;
use xshell::{Shell, cmd};

use crate::catalog::chart_dir;
use crate::{project, pytools};

/// The release name and namespace every check renders with (the alert rules name them).
pub const RELEASE: &str = "todo-chatbot";
pub const NAMESPACE: &str = "todo";

/// The driver script for the SDK.
fn driver() -> PathBuf {
    project::deploy_dir().join("tools").join("helm_engine.py")
}

/// One way to install the chart: a profile file (or none: the chart's defaults) plus overrides.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// A values file inside the chart folder, e.g. `values-minikube.yaml`; `None` = defaults only.
    pub profile: Option<&'static str>,
    /// Extra values as a JSON object (`--set-json` semantics), e.g. for `cargo xtask manifests`.
    pub set_json: Option<String>,
}

impl Inputs {
    /// A short name for messages.
    pub fn label(&self) -> String {
        let base = self.profile.unwrap_or("values.yaml (defaults)");
        match &self.set_json {
            Some(extra) => format!("{base} + {extra}"),
            None => base.to_owned(),
        }
    }

    fn value_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(profile) = self.profile {
            args.push("--values".to_owned());
            args.push(chart_dir().join(profile).display().to_string());
        }
        if let Some(extra) = &self.set_json {
            args.push("--set-json".to_owned());
            args.push(extra.clone());
        }
        args
    }
}

/// Which engine runs: said once in the output so a reader knows what was verified.
pub fn engine_name() -> &'static str {
    if which::which("helm").is_ok() {
        "helm binary"
    } else {
        "Helm Go SDK (helm-python-sdk)"
    }
}

/// `helm lint --strict`: fails on any warning or error, prints the informational notes.
pub fn lint(sh: &Shell, inputs: &Inputs) -> anyhow::Result<()> {
    let chart = chart_dir();
    let values = inputs.value_args();
    if let Ok(helm) = which::which("helm") {
        let values = helm_set_args(&values);
        cmd!(
            sh,
            "{helm} lint --strict --namespace {NAMESPACE} {chart} {values...}"
        )
        .run()
        .with_context(|| format!("helm lint --strict failed for {}", inputs.label()))?;
        return Ok(());
    }
    let python = pytools::tool("python")?;
    let driver = driver();
    let output = captured(
        cmd!(
            sh,
            "{python} {driver} lint --chart {chart} --namespace {NAMESPACE} {values...}"
        ),
        || format!("running the Helm SDK's lint for {}", inputs.label()),
    )?;
    let report: LintReport =
        serde_json::from_str(&output).context("reading the Helm SDK's lint report")?;
    let mut problems = report.errors;
    for message in report.messages {
        // Severity 1 is informational ("icon is recommended"); strict lint fails on 2 and 3.
        if message.severity >= 2 {
            problems.push(format!("{}: {}", message.path, message.error));
        } else {
            println!("    note: {}: {}", message.path, message.error);
        }
    }
    if !problems.is_empty() {
        bail!(
            "helm lint --strict found problems with {}:\n  {}",
            inputs.label(),
            problems.join("\n  ")
        );
    }
    Ok(())
}

#[derive(Deserialize)]
struct LintReport {
    #[serde(default)]
    messages: Vec<LintMessage>,
    #[serde(default)]
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct LintMessage {
    severity: u8,
    path: String,
    error: String,
}

/// `helm template`: the rendered manifests by template path (`todo-chatbot/templates/x.yaml`),
/// hooks and tests included, NOTES.txt and empty templates left out.
pub fn render(sh: &Shell, inputs: &Inputs) -> anyhow::Result<BTreeMap<String, String>> {
    render_as(sh, inputs, RELEASE, NAMESPACE)
}

/// [`render`] as release `release` in `namespace`.
pub fn render_as(
    sh: &Shell,
    inputs: &Inputs,
    release: &str,
    namespace: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let chart = chart_dir();
    let values = inputs.value_args();
    let rendered: BTreeMap<String, String> = if let Ok(helm) = which::which("helm") {
        let values = helm_set_args(&values);
        let text = captured(
            cmd!(
                sh,
                "{helm} template {release} {chart} --namespace {namespace} {values...}"
            ),
            || format!("helm template failed for {}", inputs.label()),
        )?;
        split_helm_template_output(&text)
    } else {
        let python = pytools::tool("python")?;
        let driver = driver();
        let output = captured(
            cmd!(
                sh,
                "{python} {driver} render --chart {chart} --name {release} --namespace {namespace} {values...}"
            ),
            || {
                format!(
                    "rendering the chart with the Helm SDK for {}",
                    inputs.label()
                )
            },
        )?;
        serde_json::from_str(&output).context("reading the Helm SDK's rendered templates")?
    };
    Ok(rendered
        .into_iter()
        .filter(|(path, text)| path.ends_with(".yaml") && !text.trim().is_empty())
        .collect())
}

/// Runs a command quietly and returns its stdout; on failure the error carries its stderr
/// (Helm's own message, e.g. which value the schema refused).
fn captured(command: xshell::Cmd<'_>, what: impl Fn() -> String) -> anyhow::Result<String> {
    let output = command
        .quiet()
        .ignore_status()
        .output()
        .with_context(&what)?;
    if !output.status.success() {
        bail!(
            "{}: {}",
            what(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).with_context(|| format!("{}: output is not UTF-8", what()))
}

/// The driver takes `--set-json`, which `helm` spells the same; only the flag order differs.
fn helm_set_args(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a == "--values" {
                "-f".to_owned()
            } else {
                a.clone()
            }
        })
        .collect()
}

/// Splits `helm template` output on its `# Source:` comments.
fn split_helm_template_output(text: &str) -> BTreeMap<String, String> {
    let mut rendered: BTreeMap<String, String> = BTreeMap::new();
    for document in text.split("\n---") {
        let Some(source) = document.lines().find_map(|l| l.strip_prefix("# Source: ")) else {
            continue;
        };
        let entry = rendered.entry(source.trim().to_owned()).or_default();
        if !entry.is_empty() {
            entry.push_str("\n---");
        }
        entry.push_str(document);
    }
    rendered
}

/// One rendered Kubernetes object, parsed (YAML to JSON by the venv's PyYAML).
#[derive(Debug, Clone, Deserialize)]
pub struct Object {
    pub source: String,
    pub object: serde_json::Value,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }
}

/// Parses rendered manifests into objects.
pub fn objects(sh: &Shell, rendered: &BTreeMap<String, String>) -> anyhow::Result<Vec<Object>> {
    let python = pytools::tool("python")?;
    let driver = driver();
    let input = serde_json::to_string(rendered).context("encoding the rendered templates")?;
    let output = cmd!(sh, "{python} {driver} objects")
        .stdin(input)
        .read()
        .context("parsing the rendered manifests")?;
    serde_json::from_str(&output).context("reading the parsed objects")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_template_output_is_split_by_source_and_keeps_multi_document_templates_together() {
        let text = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B1\n---\n# Source: c/templates/b.yaml\nkind: B2\n";
        let split = split_helm_template_output(text);
        assert_eq!(split.len(), 2, "two templates: {split:?}");
        assert!(
            split["c/templates/b.yaml"].contains("B1")
                && split["c/templates/b.yaml"].contains("B2")
        );
    }
}
