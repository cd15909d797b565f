//! The `dockerfiles` suite of `cargo xtask test`, the lint of the images' recipes: hadolint with
//! no findings at all and checkov's Dockerfile checks with no failures, on `deploy/docker/` and
//! on the generated scratch Dockerfiles.

use std::path::PathBuf;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::{
    catalog::SERVICES,
    images::fastpath,
    project::{self, Outcome},
    pytools,
};

/// `deploy/docker/`.
fn docker_dir() -> PathBuf {
    project::deploy_dir().join("docker")
}

/// Runs both scanners; a missing venv is a skip outside CI and a failure in CI.
pub fn scan(sh: &Shell) -> anyhow::Result<Outcome> {
    let (hadolint, checkov) = match (pytools::tool("hadolint"), pytools::tool("checkov")) {
        (Ok(hadolint), Ok(checkov)) => (hadolint, checkov),
        (Err(err), _) | (_, Err(err)) => {
            return project::skip_or_fail("dockerfiles", &format!("{err:#}"));
        }
    };
    let dir = docker_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "Dockerfile" || n.ends_with(".Dockerfile"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no Dockerfile in {}", dir.display());
    }

    let file_count = files.len();
    cmd!(sh, "{hadolint} --failure-threshold style {files...}")
        .run()
        .context(
            "hadolint found problems in deploy/docker (every finding counts, style included)",
        )?;
    let placeholder_labels = vec![(
        "org.opencontainers.image.revision".to_owned(),
        "0".repeat(40),
    )];
    for service in &SERVICES {
        let generated = fastpath::dockerfile(service, &placeholder_labels);
        cmd!(sh, "{hadolint} --failure-threshold style -")
            .stdin(generated)
            .run()
            .with_context(|| {
                format!(
                    "hadolint found problems in the generated {} Dockerfile",
                    service.binary
                )
            })?;
    }
    println!(
        "hadolint: no findings in {} file(s) and the 2 generated Dockerfiles",
        file_count
    );

    cmd!(
        sh,
        "{checkov} --framework dockerfile --directory {dir} --compact --quiet"
    )
    .env("BC_SKIP_MAPPING", "TRUE")
    .run()
    .context("checkov's Dockerfile checks failed on deploy/docker")?;
    println!("checkov: no failed Dockerfile checks");
    Ok(Outcome::Passed)
}
