//! checkov on each rendered profile: zero failed checks. Waivers come only from
//! `deploy/helm/checkov-waivers.toml`, only for the Minikube profile, only for local-image checks.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde::Deserialize;
use xshell::{Shell, cmd};

use super::Render;
use crate::catalog::MINIKUBE_PROFILE;
use crate::{project, pytools};

/// The checks a waiver may name: they are about images coming from a registry, which local
/// Minikube images cannot satisfy.
const WAIVABLE: [&str; 2] = ["CKV_K8S_15", "CKV_K8S_43"];

#[derive(Deserialize)]
struct WaiverFile {
    profile: BTreeMap<String, Vec<Waiver>>,
}

#[derive(Debug, Clone, Deserialize)]
struct Waiver {
    check: String,
    reason: String,
}

fn waivers() -> anyhow::Result<BTreeMap<String, Vec<Waiver>>> {
    let path = project::deploy_dir()
        .join("helm")
        .join("checkov-waivers.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: WaiverFile =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for (profile, list) in &file.profile {
        // The only profile that may waive checkov checks (local images only).
        if profile != MINIKUBE_PROFILE && !list.is_empty() {
            bail!(
                "{}: only {MINIKUBE_PROFILE} may waive checkov checks (local images); {profile} may not",
                path.display()
            );
        }
        for waiver in list {
            if !WAIVABLE.contains(&waiver.check.as_str()) {
                bail!(
                    "{}: {} may not be waived (only the local-image checks {} may, for Minikube)",
                    path.display(),
                    waiver.check,
                    WAIVABLE.join(", ")
                );
            }
            if waiver.reason.trim().len() < 20 {
                bail!(
                    "{}: the waiver of {} needs a real reason",
                    path.display(),
                    waiver.check
                );
            }
        }
    }
    Ok(file.profile)
}

#[derive(Deserialize)]
struct Report {
    summary: Summary,
    #[serde(default)]
    results: Results,
}

#[derive(Deserialize)]
struct Summary {
    passed: u64,
    failed: u64,
}

#[derive(Default, Deserialize)]
struct Results {
    #[serde(default)]
    failed_checks: Vec<FailedCheck>,
    #[serde(default)]
    skipped_checks: Vec<FailedCheck>,
}

/// The only checks the chart may skip in a template (`checkov.io/skipN` annotations): probes,
/// on the `helm test` pods, which run one check and exit, serving nothing to probe.
const TEMPLATE_SKIPPABLE: [&str; 2] = ["CKV_K8S_8", "CKV_K8S_9"];

/// Refuses any in-template skip beyond the probes of the test pods.
fn check_template_skips(
    profile: &str,
    skipped: &[FailedCheck],
    waived: &[Waiver],
) -> anyhow::Result<()> {
    for skip in skipped {
        if waived.iter().any(|w| w.check == skip.check_id) {
            continue;
        }
        if !(TEMPLATE_SKIPPABLE.contains(&skip.check_id.as_str())
            && skip.resource.contains("-test-"))
        {
            bail!(
                "{profile}: the chart skips {} on {} with an annotation; only {} on the helm test \
                 pods may be skipped there",
                skip.check_id,
                skip.resource,
                TEMPLATE_SKIPPABLE.join(" and ")
            );
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct FailedCheck {
    check_id: String,
    check_name: String,
    resource: String,
}

pub fn run(sh: &Shell, renders: &[Render]) -> anyhow::Result<()> {
    println!("==> checkov (kubernetes framework) on the Minikube and production renders");
    let checkov = pytools::tool("checkov")?;
    let waivers = waivers()?;
    // The profiles someone installs; the bare defaults are linted and validated, not scanned.
    for render in renders.iter().filter(|r| r.inputs.profile.is_some()) {
        let waived = waivers
            .get(render.profile_name())
            .cloned()
            .unwrap_or_default();
        let mut skip = Vec::new();
        if !waived.is_empty() {
            let ids: Vec<&str> = waived.iter().map(|w| w.check.as_str()).collect();
            skip = vec!["--skip-check".to_owned(), ids.join(",")];
        }
        let dir = &render.dir;
        let output = cmd!(
            sh,
            "{checkov} --directory {dir} --framework kubernetes --quiet --compact --skip-download --output json {skip...}"
        )
        .ignore_status()
        .quiet()
        .output()
        .context("running checkov")?;
        let report: Report = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "reading checkov's report on {}: {}{}",
                render.profile_name(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        println!(
            "    {}: {} passed, {} failed, {} waived",
            render.profile_name(),
            report.summary.passed,
            report.summary.failed,
            waived.len()
        );
        for waiver in &waived {
            println!("      waived {}: {}", waiver.check, waiver.reason);
        }
        check_template_skips(
            render.profile_name(),
            &report.results.skipped_checks,
            &waived,
        )?;
        let template_skips = report
            .results
            .skipped_checks
            .iter()
            .filter(|s| !waived.iter().any(|w| w.check == s.check_id))
            .count();
        if template_skips > 0 {
            println!(
                "      {template_skips} probe checks skipped on the helm test pods (one-shot checks, nothing to probe)"
            );
        }
        if report.summary.failed > 0 {
            let failures: Vec<String> = report
                .results
                .failed_checks
                .iter()
                .map(|f| format!("{} {} ({})", f.check_id, f.check_name, f.resource))
                .collect();
            bail!(
                "checkov found {} failed check(s) in {}:\n  {}",
                report.summary.failed,
                render.profile_name(),
                failures.join("\n  ")
            );
        }
    }
    Ok(())
}
