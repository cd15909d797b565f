//! The `e2e-docker` suite: the user's two commands on the Docker Engine, through the xtask as
//! users type them. SQLite: `up --target docker`, then `test-e2e` with the functional
//! scenarios, a short goose `--load`, `--rolling` and `--chaos`. PostgreSQL: `up --target docker
//! --postgres`, then the functional scenarios, `--rolling`, `--chaos` and `--db-outage`. Each
//! mode ends with `down --purge`, and a failed step leaves nothing behind either.
//!
//! The `monitoring` suite: `up --target docker --postgres --monitoring`, then `test-e2e
//! --functional --monitoring` (see `e2e/monitoring.rs`), then `down --purge`.
//!
//! The stack takes the names `up --target docker` uses, so the suites refuse to run beside a
//! developer's own docker stack rather than replace it.
//!
//! The stacks run the release images (`up --build-profile release`): the ones the `images`
//! suite has just built and checked and the `kube` suite pushes, so one optimised build serves
//! every suite (the stack profile, `up`'s default here, would be a second build of everything).

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use xshell::{Shell, cmd};

use crate::{
    e2e,
    procs::free_port,
    project::{self, Outcome},
    runtime::block_on,
    up::{docker::BACKEND, state::STACK_FILE_VARIABLE},
};

pub fn suite(sh: &Shell) -> anyhow::Result<Outcome> {
    if let Some(skipped) = unmet("e2e-docker")? {
        return Ok(skipped);
    }
    let work = project::root().join("target").join("test-e2e-docker");
    std::fs::create_dir_all(&work).context("creating target/test-e2e-docker")?;
    run_mode(
        sh,
        &work,
        "sqlite",
        &[],
        &[
            "--functional",
            "--load",
            "20",
            "--duration",
            "15s",
            "--rolling",
            "--chaos",
        ],
    )?;
    run_mode(
        sh,
        &work,
        "postgres",
        &["--postgres"],
        &["--functional", "--rolling", "--chaos", "--db-outage"],
    )?;
    Ok(Outcome::Passed)
}

pub fn monitoring_suite(sh: &Shell) -> anyhow::Result<Outcome> {
    if let Some(skipped) = unmet("monitoring")? {
        return Ok(skipped);
    }
    for program in [
        crate::monitoring::PROMETHEUS_PROGRAM,
        crate::monitoring::ALERTMANAGER_PROGRAM,
    ] {
        if let Err(err) = crate::monitoring::image::binary(&program) {
            return project::skip_or_fail("monitoring", &format!("{err:#}"));
        }
    }
    if !crate::pytools::is_installed() {
        return project::skip_or_fail(
            "monitoring",
            "the Helm engine (the alert rules come from the chart) is missing: `cargo xtask \
             doctor --install`",
        );
    }
    if crate::e2e::screenshot::browser().is_none() {
        return project::skip_or_fail(
            "monitoring",
            "Chromium (the dashboard's screenshot) is missing: apt-get install -y chromium",
        );
    }
    let work = project::root().join("target").join("test-e2e-docker");
    std::fs::create_dir_all(&work).context("creating target/test-e2e-docker")?;
    run_mode(
        sh,
        &work,
        "monitoring",
        &["--postgres", "--monitoring"],
        &["--functional", "--monitoring"],
    )?;
    Ok(Outcome::Passed)
}

/// What both suites need: a Docker Engine with no stack of `up` on it, and PostgreSQL's
/// binaries; `Some` is the suite's outcome when something is missing.
fn unmet(suite: &str) -> anyhow::Result<Option<Outcome>> {
    let docker = match block_on(crate::engine::connect(None))? {
        Ok(docker) => docker,
        Err(err) => {
            return project::skip_or_fail(suite, &format!("no Docker Engine ({err:#})")).map(Some);
        }
    };
    if block_on(docker.inspect_container(BACKEND, None))?.is_ok() {
        return project::skip_or_fail(
            suite,
            "a docker stack of `cargo xtask up` runs here and the suite would replace it: \
             `cargo xtask down --target docker` first",
        )
        .map(Some);
    }
    if todo_pg_launcher::bin_dir().is_none() {
        return project::skip_or_fail(
            suite,
            "PostgreSQL server binaries are not installed: apt-get install -y postgresql",
        )
        .map(Some);
    }
    Ok(None)
}

/// `up` with `up_args`, `test-e2e` with `e2e_args`, `down --purge`; the report is kept in
/// `work/<name>.json`.
fn run_mode(
    sh: &Shell,
    work: &Path,
    name: &str,
    up_args: &[&str],
    e2e_args: &[&str],
) -> anyhow::Result<()> {
    println!("==> e2e-docker: {name}");
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    let stack_file = work.join(format!("{name}.toml"));
    let report: PathBuf = work.join(format!("{name}.json"));
    let (ui, api) = (free_port()?.to_string(), free_port()?.to_string());
    // A report left by an earlier run would name its failures as this run's.
    let _ = std::fs::remove_file(&report);
    let steps = || -> anyhow::Result<()> {
        cmd!(
            sh,
            "{xtask} up --target docker --build-profile release --ui-port {ui} --api-port {api} {up_args...}"
        )
        .env(STACK_FILE_VARIABLE, &stack_file)
        .run()
        .context("cargo xtask up --target docker")?;
        cmd!(
            sh,
            "{xtask} test-e2e --target docker --report {report} {e2e_args...}"
        )
        .env(STACK_FILE_VARIABLE, &stack_file)
        .run()
        .with_context(|| format!("cargo xtask test-e2e{}", e2e::failures_in_report(&report)))?;
        let text = std::fs::read_to_string(&report).context("reading the e2e report")?;
        let parsed: serde_json::Value =
            serde_json::from_str(&text).context("parsing the e2e report")?;
        ensure!(
            parsed["failed"] == 0 && parsed["passed"].as_u64().unwrap_or_default() > 0,
            "the report does not say every scenario passed: {text}"
        );
        Ok(())
    };
    let result = steps();
    let down = cmd!(sh, "{xtask} down --target docker --purge")
        .env(STACK_FILE_VARIABLE, &stack_file)
        .run()
        .context("cargo xtask down --target docker --purge");
    result?;
    down?;
    Ok(())
}
