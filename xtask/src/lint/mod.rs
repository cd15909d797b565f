//! `cargo xtask lint` (and the `lint` suite of `cargo xtask test`): the Helm chart, its renders,
//! the alert rules and the plain manifests, checked with real engines.
//!
//! For each values profile: Helm's strict lint and render, every object validated against the
//! Kubernetes 1.30–1.34 schemas (`kubernetes-validate --strict`), checkov (zero failures;
//! waivers only where `deploy/helm/checkov-waivers.toml` allows them); promtool rule tests on the
//! rendered PrometheusRule; drift of `deploy/k8s/`; and the rendered env, ports, probes and
//! monitoring queries against the real services.

mod checkov;
mod consistency;
pub mod dockerfiles;
mod promtool;
mod validate;
mod values_doc;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use xshell::Shell;

use crate::{
    helm, manifests,
    project::{self, Outcome},
    pytools,
};

use crate::catalog::PROFILES;

/// The profile checkov must pass with no waiver, and whose alert rules are tested.
pub const PRODUCTION: &str = crate::catalog::PRODUCTION_PROFILE;

/// What a production install adds to its profile: the pushed images' digests (examples here),
/// and, since an offline render cannot see the prometheus-operator's API, its objects rendered
/// anyway (as a GitOps pipeline renders them for a cluster that has it), so they are checked.
const PRODUCTION_INSTALL_VALUES: &str = r#"{"backend":{"image":{"digest":"sha256:5e1ec7ed00000000000000000000000000000000000000000000000000000001"}},"frontend":{"image":{"digest":"sha256:5e1ec7ed00000000000000000000000000000000000000000000000000000002"}},"metrics":{"requireOperatorApi":false}}"#;

/// Lint the chart and everything rendered from it.
#[derive(clap::Args)]
pub struct Lint {
    /// Run only these checks (repeatable; default all): helm, validate, checkov, promtool,
    /// drift, services.
    #[arg(long, value_enum)]
    only: Vec<Check>,
}

/// One group of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Check {
    Helm,
    Validate,
    Checkov,
    Promtool,
    Drift,
    Services,
}

impl Lint {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if run_checks(sh, &self.only)? == Outcome::Skipped {
            println!("lint: passed, but some checks were SKIPPED (see above)");
        } else {
            println!("lint: all checks passed");
        }
        Ok(())
    }
}

/// The `lint` suite of `cargo xtask test`.
pub fn suite(sh: &Shell) -> anyhow::Result<Outcome> {
    run_checks(sh, &[])
}

/// One profile, rendered: the templates, their objects, and the folder they were written to.
pub struct Render {
    pub inputs: helm::Inputs,
    pub objects: Vec<helm::Object>,
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

impl Render {
    pub fn profile_name(&self) -> &'static str {
        self.inputs.profile.unwrap_or("values.yaml")
    }
}

fn run_checks(sh: &Shell, only: &[Check]) -> anyhow::Result<Outcome> {
    if !pytools::is_installed() {
        return project::skip_or_fail(
            "lint",
            "the Python tools venv (Helm SDK, kubernetes-validate, checkov) is missing; \
             install it with `cargo xtask doctor --install`",
        );
    }
    let wants = |check: Check| only.is_empty() || only.contains(&check);
    // Not a hidden folder (tempfile's default `.tmp…`): checkov skips hidden paths.
    let work = tempfile::Builder::new()
        .prefix("xtask-lint-")
        .tempdir()
        .context("creating a work folder for the renders")?;

    println!(
        "==> helm lint --strict and render ({})",
        helm::engine_name()
    );
    let mut renders = Vec::new();
    for profile in PROFILES {
        let inputs = helm::Inputs {
            profile,
            set_json: (profile == Some(PRODUCTION)).then(|| PRODUCTION_INSTALL_VALUES.to_owned()),
        };
        helm::lint(sh, &inputs)?;
        let rendered = helm::render(sh, &inputs)?;
        let dir = work
            .path()
            .join(profile.unwrap_or("values.yaml").trim_end_matches(".yaml"));
        let files = write_render(&dir, &rendered)?;
        let objects = helm::objects(sh, &rendered)?;
        println!(
            "    {}: lint clean, {} objects rendered",
            inputs.label(),
            objects.len()
        );
        renders.push(Render {
            inputs,
            objects,
            dir,
            files,
        });
    }

    guard_rails(sh)?;
    values_doc::run()?;

    let mut outcome = Outcome::Passed;
    if wants(Check::Validate) {
        validate::run(sh, &renders)?;
    }
    if wants(Check::Checkov) {
        checkov::run(sh, &renders)?;
    }
    if wants(Check::Promtool) && promtool::run(sh, production(&renders)?)? == Outcome::Skipped {
        outcome = Outcome::Skipped;
    }
    if wants(Check::Drift) {
        println!("==> deploy/k8s is what `cargo xtask manifests` renders");
        manifests::check_drift(sh)?;
        println!("    no drift");
    }
    if wants(Check::Services) {
        consistency::run(sh, &renders)?;
    }
    Ok(outcome)
}

/// Values that cannot work must fail at render time with a message that says what to do.
const GUARD_RAILS: [(&str, &str); 7] = [
    (r#"{"backend":{"replicas":2}}"#, "replicas"),
    (
        r#"{"backend":{"replicaCount":2}}"#,
        "backend.replicaCount must be 1 with database.mode=sqlite",
    ),
    (r#"{"image":{"tag":"latest"}}"#, "latest"),
    (
        r#"{"database":{"mode":"external"},"backend":{"replicaCount":2}}"#,
        "database.mode=external needs the PostgreSQL URL",
    ),
    (
        r#"{"database":{"mode":"external","external":{"url":"postgres://db.example.invalid/todo"}}}"#,
        "database.mode=external runs two or more backend replicas",
    ),
    (
        r#"{"config":{"shutdownGraceSeconds":10}}"#,
        "config.shutdownGraceSeconds (10) is shorter than config.requestTimeoutSeconds",
    ),
    (
        r#"{"ingress":{"enabled":true,"tls":{"enabled":true}}}"#,
        "ingress.tls.enabled needs ingress.tls.secretName",
    ),
];

fn guard_rails(sh: &Shell) -> anyhow::Result<()> {
    for (values, expected) in GUARD_RAILS {
        let inputs = helm::Inputs {
            profile: None,
            set_json: Some(values.to_owned()),
        };
        match helm::render(sh, &inputs) {
            Ok(_) => anyhow::bail!(
                "the chart renders with {values}, which cannot work; it must refuse it"
            ),
            Err(err) if format!("{err:#}").contains(expected) => {}
            Err(err) => anyhow::bail!(
                "the chart refuses {values}, but without saying `{expected}`: {err:#}"
            ),
        }
    }
    println!(
        "    {} invalid value sets refused with a clear message",
        GUARD_RAILS.len()
    );
    Ok(())
}

fn production(renders: &[Render]) -> anyhow::Result<&Render> {
    renders
        .iter()
        .find(|r| r.inputs.profile == Some(PRODUCTION))
        .with_context(|| format!("{PRODUCTION} was not rendered"))
}

/// Writes each template's render to `<dir>/<template file name>`.
fn write_render(dir: &Path, rendered: &BTreeMap<String, String>) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files = Vec::new();
    for (source, text) in rendered {
        let name = source
            .trim_start_matches("todo-chatbot/templates/")
            .replace('/', "_");
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}
