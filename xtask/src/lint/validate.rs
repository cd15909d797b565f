//! Every rendered object against the Kubernetes OpenAPI schemas of 1.30 through 1.34
//! (`kubernetes-validate --strict`: unknown fields fail), and the prometheus-operator objects
//! against the strict schemas in `deploy/monitoring/crd-schemas/` (the Kubernetes schemas have none).

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use super::Render;
use crate::{project, pytools};

/// The Kubernetes versions the offline renders are validated against: they carry the API versions
/// of a current cluster (autoscaling/v2, policy/v1). Chart.yaml's kubeVersion is >= 1.20; the
/// older API versions the chart picks there are proven on a 1.20 cluster by the `kube` suite.
pub const KUBERNETES_VERSIONS: [&str; 5] = ["1.30.0", "1.31.0", "1.32.0", "1.33.0", "1.34.0"];

/// Custom resources validated with our own schemas instead.
const CUSTOM_KINDS: [&str; 2] = ["ServiceMonitor", "PrometheusRule"];

pub fn run(sh: &Shell, renders: &[Render]) -> anyhow::Result<()> {
    println!(
        "==> kubernetes-validate --strict, Kubernetes {}",
        KUBERNETES_VERSIONS.join(", ")
    );
    let validator = pytools::tool("kubernetes-validate")?;
    let versions: Vec<String> = KUBERNETES_VERSIONS
        .iter()
        .flat_map(|v| ["-k".to_owned(), (*v).to_owned()])
        .collect();
    for render in renders {
        let (files, version_args) = (&render.files, versions.clone());
        let output = cmd!(
            sh,
            "{validator} --strict --quiet {version_args...} {files...}"
        )
        .ignore_status()
        .output()
        .context("running kubernetes-validate")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut problems = Vec::new();
        let mut custom = 0;
        for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
            let is_custom_kind = line.starts_with("WARN")
                && CUSTOM_KINDS
                    .iter()
                    .any(|k| line.contains(&format!("kind {k} ")));
            if is_custom_kind {
                custom += 1;
            } else {
                problems.push(line.to_owned());
            }
        }
        if !output.status.success() && problems.is_empty() {
            bail!(
                "kubernetes-validate failed for {}: {}",
                render.profile_name(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        if !problems.is_empty() {
            bail!(
                "rendered objects of {} are not valid:\n  {}",
                render.profile_name(),
                problems.join("\n  ")
            );
        }
        let core = render
            .objects
            .iter()
            .filter(|o| !CUSTOM_KINDS.contains(&o.kind()))
            .count();
        println!(
            "    {}: {core} objects valid against {} Kubernetes versions",
            render.profile_name(),
            KUBERNETES_VERSIONS.len()
        );
        if custom > 0 {
            validate_custom_resources(sh, render)?;
        }
    }
    Ok(())
}

fn validate_custom_resources(sh: &Shell, render: &Render) -> anyhow::Result<()> {
    let python = pytools::tool("python")?;
    let script = project::deploy_dir().join("tools").join("validate_crds.py");
    let schemas = project::deploy_dir().join("monitoring").join("crd-schemas");
    let files = &render.files;
    let report = cmd!(sh, "{python} {script} {schemas} {files...}")
        .ignore_status()
        .output()
        .context("running validate_crds.py")?;
    let stdout = String::from_utf8_lossy(&report.stdout);
    if !report.status.success() {
        bail!(
            "custom resources of {} are not valid:\n{stdout}{}",
            render.profile_name(),
            String::from_utf8_lossy(&report.stderr)
        );
    }
    for line in stdout.lines() {
        println!(
            "    {}: {}",
            render.profile_name(),
            line.trim_start_matches("INFO ")
        );
    }
    Ok(())
}
