//! `cargo xtask test`: everything the project tests, suite by suite, with a summary.
//!
//! In CI (`CI=true`) no suite may be skipped: a missing tool fails the run.

mod api_schema;
mod docker_e2e;
mod fuzz;
mod images;
mod kube;

use std::time::Instant;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::project::{self, Outcome};

/// Run every suite: format, lints, the workspace's tests, and the deployment checks.
#[derive(clap::Args)]
pub struct Test {
    /// Run only the named suites (repeatable), e.g. `--only unit`.
    #[arg(long)]
    only: Vec<String>,
    /// Leave out the named suites (repeatable). Refused in CI.
    #[arg(long)]
    skip: Vec<String>,
    /// List the suites and exit.
    #[arg(long)]
    list: bool,
}

/// One suite: a name and the function that runs it.
struct Suite {
    name: &'static str,
    about: &'static str,
    run: fn(&Shell) -> anyhow::Result<Outcome>,
}

fn suites() -> Vec<Suite> {
    vec![
        Suite {
            name: "fmt",
            about: "rustfmt check (the workspace and fuzz/)",
            run: fmt,
        },
        Suite {
            name: "clippy",
            about: "clippy on every target of the workspace and the fuzz crate, warnings denied",
            run: clippy,
        },
        Suite {
            name: "deps",
            about: "cargo-machete: no crate declares a dependency it does not use",
            run: unused_dependencies,
        },
        Suite {
            name: "supply-chain",
            about: "cargo-deny (deny.toml): permissive licences only, no unlisted duplicate version, crates.io only",
            run: supply_chain,
        },
        Suite {
            name: "unit",
            about: "the workspace's tests (real PostgreSQL and SQLite)",
            run: workspace_tests,
        },
        Suite {
            name: "api-schema",
            about: "schemathesis: valid and invalid calls of every operation of /api/openapi.json with a user's token, straight to the backend and through the frontend; no 5xx, no answer the document does not allow",
            run: api_schema::suite,
        },
        Suite {
            name: "fuzz",
            about: "cargo fuzz: chat parser, Authorization header and token, MCP requests, configuration and DATABASE_URL, each for FUZZ_SECONDS (30) from fuzz/corpus",
            run: fuzz::suite,
        },
        Suite {
            name: "browser",
            about: "the UI in headless Chromium at desktop and phone widths, screenshots in target/artifacts/ (services/frontend/tests/browser.rs)",
            run: browser,
        },
        Suite {
            name: "dockerfiles",
            about: "hadolint (no findings) and checkov (no failures) on the Dockerfiles",
            run: crate::lint::dockerfiles::scan,
        },
        Suite {
            name: "images",
            about: "build the images on the Docker Engine and run `images --check`",
            run: images::suite,
        },
        Suite {
            name: "lint",
            about: "Helm lint/render, Kubernetes schemas, checkov, promtool, manifests drift, chart vs services",
            run: crate::lint::suite,
        },
        Suite {
            name: "e2e-docker",
            about: "up --target docker, then test-e2e: functional, --load, --rolling, --chaos (SQLite); functional, --rolling, --chaos, --db-outage (up --postgres)",
            run: docker_e2e::suite,
        },
        Suite {
            name: "monitoring",
            about: "up --target docker --monitoring --postgres, then test-e2e --monitoring: rule groups, targets, every dashboard panel, alerts firing on a stopped backend and database",
            run: docker_e2e::monitoring_suite,
        },
        Suite {
            name: "kube",
            about: "up/status/logs/helm test/upgrade/down --purge on a real cluster (KUBECONFIG), SQLite and PostgreSQL, with the end-to-end scenarios",
            run: kube::suite,
        },
    ]
}

impl Test {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let all = suites();
        if self.list {
            for suite in &all {
                println!("{:<12} {}", suite.name, suite.about);
            }
            return Ok(());
        }
        if project::in_ci() && !(self.skip.is_empty() && self.only.is_empty()) {
            bail!("--skip and --only are refused in CI: every suite must run");
        }
        for name in self.only.iter().chain(&self.skip) {
            if !all.iter().any(|s| s.name == name) {
                bail!("no suite named `{name}`; `cargo xtask test --list` shows them");
            }
        }
        let selected: Vec<_> = all
            .iter()
            .filter(|s| self.only.is_empty() || self.only.iter().any(|n| n == s.name))
            .filter(|s| !self.skip.iter().any(|n| n == s.name))
            .collect();

        let mut results = Vec::new();
        // Why each failed suite failed, repeated under the table: a long run's log is often
        // read from its end (CI keeps its tail), far below the suite's own output.
        let mut failures = Vec::new();
        for suite in selected {
            println!("==> suite {}: {}", suite.name, suite.about);
            let started = Instant::now();
            let outcome = (suite.run)(sh);
            let seconds = started.elapsed().as_secs_f64();
            match &outcome {
                Ok(Outcome::Passed) => println!("==> suite {} passed in {seconds:.1}s", suite.name),
                Ok(Outcome::Skipped) => println!("==> suite {} SKIPPED", suite.name),
                Err(err) => {
                    println!("==> suite {} FAILED in {seconds:.1}s: {err:#}", suite.name);
                    failures.push((suite.name, format!("{err:#}")));
                }
            }
            results.push((suite.name, outcome.ok(), seconds));
        }

        println!();
        println!("{:<12} {:>8} {:>9}", "suite", "result", "seconds");
        for (name, outcome, seconds) in &results {
            let word = match outcome {
                Some(Outcome::Passed) => "passed",
                Some(Outcome::Skipped) => "SKIPPED",
                None => "FAILED",
            };
            println!("{name:<12} {word:>8} {seconds:>9.1}");
        }
        let count = |want: Option<Outcome>| results.iter().filter(|(_, o, _)| *o == want).count();
        let (passed, failed, skipped) = (
            count(Some(Outcome::Passed)),
            count(None),
            count(Some(Outcome::Skipped)),
        );
        println!("suites: {passed} passed, {failed} failed, {skipped} skipped");
        for (name, why) in &failures {
            println!("{name} failed: {why}");
        }
        if failed > 0 {
            bail!("{failed} suite(s) failed");
        }
        Ok(())
    }
}

fn fmt(sh: &Shell) -> anyhow::Result<Outcome> {
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    // The fuzz crate is outside the workspace (cargo fuzz builds it with its own flags).
    let fuzz = project::root().join("fuzz/Cargo.toml");
    cmd!(sh, "cargo fmt --manifest-path {fuzz} -- --check").run()?;
    Ok(Outcome::Passed)
}

fn clippy(sh: &Shell) -> anyhow::Result<Outcome> {
    cmd!(
        sh,
        "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings"
    )
    .run()?;
    // The fuzz crate too; `--locked` also fails when its own Cargo.lock has drifted from the
    // workspace crates it fuzzes.
    let fuzz = project::root().join("fuzz/Cargo.toml");
    cmd!(
        sh,
        "cargo clippy --manifest-path {fuzz} --all-targets --locked -- -D warnings"
    )
    .run()?;
    Ok(Outcome::Passed)
}

fn unused_dependencies(sh: &Shell) -> anyhow::Result<Outcome> {
    cargo_tool_suite(
        sh,
        "deps",
        "cargo-machete",
        &[],
        "cargo-machete found dependencies that no code uses: remove them from the Cargo.toml it names (or, for one used only by a macro, list it under [package.metadata.cargo-machete] ignored)",
    )
}

fn supply_chain(sh: &Shell) -> anyhow::Result<Outcome> {
    cargo_tool_suite(
        sh,
        "supply-chain",
        "cargo-deny",
        &["check", "licenses", "bans", "sources"],
        "cargo-deny refused the dependency graph: its report above names the crate and the rule (deny.toml)",
    )
}

/// Runs a Cargo tool that `cargo xtask doctor --install` builds; without it the suite is
/// skipped outside CI and fails in CI. `refusal` explains a non-zero exit.
fn cargo_tool_suite(
    sh: &Shell,
    suite: &str,
    tool: &str,
    args: &[&str],
    refusal: &'static str,
) -> anyhow::Result<Outcome> {
    if which::which(tool).is_err() {
        return project::skip_or_fail(
            suite,
            &format!(
                "{tool} is needed; install it with `cargo xtask doctor --install` \
                 (or: cargo install {tool} --locked)"
            ),
        );
    }
    cmd!(sh, "{tool} {args...}").run().context(refusal)?;
    Ok(Outcome::Passed)
}

fn workspace_tests(sh: &Shell) -> anyhow::Result<Outcome> {
    cmd!(sh, "cargo test --workspace --all-targets --locked").run()?;
    Ok(Outcome::Passed)
}

/// The browser test, a test target of its own behind the frontend's `browser-test` feature so
/// that `unit` runs without a browser and this suite says whether it ran.
fn browser(sh: &Shell) -> anyhow::Result<Outcome> {
    if crate::e2e::screenshot::browser().is_none() || which::which("chromedriver").is_err() {
        return project::skip_or_fail(
            "browser",
            "Chromium and chromedriver are needed; install them with: \
             apt-get update && apt-get install -y chromium chromium-driver",
        );
    }
    cmd!(
        sh,
        "cargo test -p todo-frontend --features browser-test --test browser --locked"
    )
    .run()?;
    println!(
        "screenshots (desktop, phone, dark, keyboard, chat error): {}",
        project::root().join("target/artifacts/ui-*.png").display()
    );
    Ok(Outcome::Passed)
}
