//! `cargo xtask test-e2e`: proves that a running deployment works, from the outside, through
//! the URL its users open. The scenarios do not know the target; `up` recorded where the stack
//! answers (`target/up/stack.toml`), or `--base-url` names any deployment.
//!
//! Each scenario prints its time and outcome; a JSON report goes to `target/e2e/report.json`;
//! the run ends with `N passed, M failed` and fails when anything failed.

pub mod client;
pub mod functional;
pub mod load;

use std::{future::Future, path::PathBuf, pin::Pin, time::Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use xshell::Shell;

use crate::{project, runtime::block_on, up::state::Stack as Recorded};

/// Run the end-to-end scenarios against a running stack.
#[derive(clap::Args)]
pub struct TestE2e {
    /// The stack's UI URL (default: where `cargo xtask up` recorded it).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Only the named scenarios (repeatable): health, accounts, tasks, chat, bad-input.
    #[arg(long)]
    only: Vec<String>,
    /// Where the JSON report goes.
    #[arg(long, default_value = "target/e2e/report.json")]
    report: PathBuf,
}

type Scenario =
    for<'a> fn(&'a client::Stack) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

/// The functional scenarios, in order.
pub fn functional() -> Vec<(&'static str, Scenario)> {
    vec![
        ("health", |s| Box::pin(functional::health(s))),
        ("accounts", |s| Box::pin(functional::accounts(s))),
        ("tasks", |s| Box::pin(functional::tasks(s))),
        ("chat", |s| Box::pin(functional::chat(s))),
        ("bad-input", |s| Box::pin(functional::bad_input(s))),
    ]
}

/// One scenario's result, as the report records it.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub passed: bool,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    base_url: &'a str,
    passed: usize,
    failed: usize,
    scenarios: &'a [Outcome],
}

impl TestE2e {
    pub fn run(self, _sh: &Shell) -> anyhow::Result<()> {
        let base_url = match self.base_url {
            Some(url) => url,
            None => Recorded::load()?
                .and_then(|stack| stack.ui_url)
                .context("no stack recorded: run `cargo xtask up` first, or pass --base-url URL")?,
        };
        let scenarios: Vec<_> = functional()
            .into_iter()
            .filter(|(name, _)| self.only.is_empty() || self.only.iter().any(|o| o == name))
            .collect();
        if scenarios.is_empty() {
            bail!("no scenario matches --only {:?}", self.only);
        }
        let outcomes = run_scenarios(&base_url, &scenarios)?;
        let report = project::root().join(&self.report);
        write_report(&report, &base_url, &outcomes)?;
        println!("report: {}", report.display());
        summarize(&outcomes)
    }
}

/// Runs `scenarios` in order against `base_url`, printing each as it ends.
pub fn run_scenarios(
    base_url: &str,
    scenarios: &[(&'static str, Scenario)],
) -> anyhow::Result<Vec<Outcome>> {
    let stack = client::Stack::new(base_url)?;
    println!("==> end-to-end scenarios against {base_url}");
    let mut outcomes = Vec::new();
    for (name, scenario) in scenarios {
        let started = Instant::now();
        let result = block_on(scenario(&stack))?;
        let seconds = started.elapsed().as_secs_f64();
        match &result {
            Ok(()) => println!("    {name:<12} passed  {seconds:>6.2}s"),
            Err(err) => println!("    {name:<12} FAILED  {seconds:>6.2}s: {err:#}"),
        }
        outcomes.push(Outcome {
            scenario: (*name).to_owned(),
            passed: result.is_ok(),
            seconds,
            error: result.err().map(|e| format!("{e:#}")),
        });
    }
    Ok(outcomes)
}

/// Prints the closing line; an error when anything failed.
pub fn summarize(outcomes: &[Outcome]) -> anyhow::Result<()> {
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let failed = outcomes.len() - passed;
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} end-to-end scenario(s) failed");
    }
    Ok(())
}

fn write_report(
    path: &std::path::Path,
    base_url: &str,
    outcomes: &[Outcome],
) -> anyhow::Result<()> {
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let report = Report {
        base_url,
        passed,
        failed: outcomes.len() - passed,
        scenarios: outcomes,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&report).context("encoding the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
