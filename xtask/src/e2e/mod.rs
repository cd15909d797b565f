//! `cargo xtask test-e2e`: proves that a running deployment works, from the outside, through
//! the URL its users open. The scenarios do not know the target; `up` recorded where the stack
//! answers (`target/up/stack.toml`), or `--base-url` names any deployment.
//!
//! Each scenario prints its time and outcome; a JSON report goes to `target/e2e/report.json`;
//! the run ends with `N passed, M failed` and fails when anything failed.

pub mod client;
pub mod functional;
pub mod load;
pub mod mcp;
pub mod modes;
pub mod monitoring;
pub mod operate;
pub mod screenshot;
pub mod traffic;

use std::{future::Future, path::PathBuf, pin::Pin, time::Duration, time::Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::Value;
use xshell::Shell;

use crate::{project, runtime::block_on, up::Target, up::state::Stack as Recorded};
use operate::Operator;

/// Run the end-to-end scenarios against a running stack: the functional ones by default, or
/// the modes named by their flags.
#[derive(clap::Args)]
pub struct TestE2e {
    /// The target `up` started (default: whatever it recorded); a check that the recorded stack
    /// is the one meant.
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// The stack's UI URL (default: where `cargo xtask up` recorded it). With a URL only, the
    /// functional scenarios and --load run; the modes that act on the stack need a recorded one.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Only the named functional scenarios (repeatable): health, accounts, tasks, chat, mcp,
    /// bad-input.
    #[arg(long)]
    only: Vec<String>,
    /// The functional scenarios too, when a mode is named.
    #[arg(long)]
    functional: bool,
    /// Simulated users (goose), each signing up and using the UI with think times.
    #[arg(long, value_name = "USERS")]
    load: Option<usize>,
    /// How long --load runs (seconds, or with s/m/h).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Replace each service with a new version under steady traffic.
    #[arg(long)]
    rolling: bool,
    /// Kill a backend without warning under steady traffic.
    #[arg(long)]
    chaos: bool,
    /// Stop the stack's PostgreSQL server for 10 s under steady traffic
    /// (`up --target docker --postgres`).
    #[arg(long)]
    db_outage: bool,
    /// The stack's Prometheus, alerts and dashboard (`up --target docker --monitoring
    /// --postgres`): rule groups loaded, targets up, every panel with data, and the alerts of a
    /// stopped backend and a stopped database firing, with their time to fire.
    #[arg(long)]
    monitoring: bool,
    /// Moderate traffic for this long; each instance's memory at the start and the end.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    soak: Option<Duration>,
    /// Where the JSON report goes.
    #[arg(long, default_value = "target/e2e/report.json")]
    report: PathBuf,
}

/// `90`, `90s`, `10m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write 90, 90s, 10m or 1h"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        _ => return Err(format!("`{text}`: the unit must be s, m or h")),
    };
    if seconds == 0 {
        return Err("the duration must be at least one second".to_owned());
    }
    Ok(Duration::from_secs(seconds))
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
        ("mcp", |s| Box::pin(mcp::mcp(s))),
        ("bad-input", |s| Box::pin(functional::bad_input(s))),
    ]
}

/// A mode of `test-e2e`, run after the functional scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Load { users: usize, duration: Duration },
    Rolling,
    Chaos,
    DbOutage,
    Monitoring,
    Soak(Duration),
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Load { .. } => "load",
            Self::Rolling => "rolling",
            Self::Chaos => "chaos",
            Self::DbOutage => "db-outage",
            Self::Monitoring => "monitoring",
            Self::Soak(_) => "soak",
        }
    }

    fn run(&self, stack: &client::Stack, operator: &Operator) -> anyhow::Result<Value> {
        match self {
            Self::Load { users, duration } => {
                load_with_replicas(stack, operator, *users, *duration)
            }
            Self::Rolling => modes::rolling(stack, operator),
            Self::Chaos => modes::chaos(stack, operator),
            Self::DbOutage => modes::db_outage(stack, operator),
            Self::Monitoring => monitoring::run(stack, operator),
            Self::Soak(duration) => modes::soak(stack, operator, *duration),
        }
    }
}

/// `--load`, with the autoscalers' replicas sampled every 5 s where there are autoscalers.
fn load_with_replicas(
    stack: &client::Stack,
    operator: &Operator,
    users: usize,
    duration: Duration,
) -> anyhow::Result<Value> {
    let done = std::sync::atomic::AtomicBool::new(false);
    let (figures, replicas) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            let started = Instant::now();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(Some(replicas)) = operator.autoscaled()
                    && !replicas.is_empty()
                {
                    samples.push(serde_json::json!({"second": started.elapsed().as_secs(), "replicas": replicas}));
                }
                for _ in 0..50 {
                    if done.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            samples
        });
        let figures = block_on(load::run(&stack.base, users, duration));
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (figures, sampler.join().unwrap_or_default())
    });
    let figures = figures??;
    figures.print();
    if !replicas.is_empty() {
        let line: Vec<String> = replicas
            .iter()
            .map(|s| format!("{}s {}", s["second"], s["replicas"]))
            .collect();
        println!("      autoscalers: {}", line.join("; "));
    }
    let value = serde_json::json!({"figures": figures, "autoscaler_replicas": replicas});
    if figures.errors > 0 || figures.failed_actions > 0 {
        bail!(
            "{} of {} requests failed under load, {} user actions failed",
            figures.errors,
            figures.requests,
            figures.failed_actions
        );
    }
    if figures.requests == 0 {
        bail!("the simulated users made no request");
    }
    Ok(value)
}

/// One scenario's result, as the report records it.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub passed: bool,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

#[derive(Serialize)]
struct Report<'a> {
    base_url: &'a str,
    target: String,
    passed: usize,
    failed: usize,
    scenarios: &'a [Outcome],
}

impl TestE2e {
    fn modes(&self) -> Vec<Mode> {
        let mut modes = Vec::new();
        if let Some(users) = self.load {
            modes.push(Mode::Load {
                users,
                duration: self.duration,
            });
        }
        if self.rolling {
            modes.push(Mode::Rolling);
        }
        if self.chaos {
            modes.push(Mode::Chaos);
        }
        if self.db_outage {
            modes.push(Mode::DbOutage);
        }
        if self.monitoring {
            modes.push(Mode::Monitoring);
        }
        if let Some(duration) = self.soak {
            modes.push(Mode::Soak(duration));
        }
        modes
    }

    pub fn run(self, _sh: &Shell) -> anyhow::Result<()> {
        let recorded = Recorded::load()?;
        if let (Some(target), Some(stack)) = (self.target, &recorded)
            && stack.target != target.name()
        {
            bail!(
                "the stack `up` recorded runs on the {} target, not {}: run `cargo xtask up \
                 --target {}` first (or drop --target)",
                stack.target,
                target.name(),
                target.name()
            );
        }
        if self.target.is_some() && recorded.is_none() {
            bail!("no stack recorded: run `cargo xtask up` first");
        }
        let base_url = match (&self.base_url, &recorded) {
            (Some(url), _) => url.clone(),
            (None, Some(stack)) => stack
                .ui_url
                .clone()
                .context("the recorded stack has no UI URL; pass --base-url URL")?,
            (None, None) => {
                bail!("no stack recorded: run `cargo xtask up` first, or pass --base-url URL")
            }
        };
        let known: Vec<&str> = functional().iter().map(|(name, _)| *name).collect();
        if let Some(unknown) = self.only.iter().find(|o| !known.contains(&o.as_str())) {
            bail!(
                "no scenario named `{unknown}`; the functional scenarios are {}",
                known.join(", ")
            );
        }
        let modes = self.modes();
        let scenarios: Vec<_> = if modes.is_empty() || self.functional {
            functional()
                .into_iter()
                .filter(|(name, _)| self.only.is_empty() || self.only.iter().any(|o| o == name))
                .collect()
        } else {
            Vec::new()
        };
        if scenarios.is_empty() && modes.is_empty() {
            bail!("no scenario matches --only {:?}", self.only);
        }
        let operator = match (&recorded, &self.base_url) {
            (Some(stack), None) => Operator::for_stack(stack)?,
            _ => Operator::Url(format!("the URL {base_url}")),
        };
        let mut outcomes = run_scenarios(&base_url, &scenarios)?;
        if !scenarios.is_empty() && self.only.is_empty() {
            outcomes.extend(run_metrics(&base_url, &operator)?);
        }
        outcomes.extend(run_modes(&base_url, &operator, &modes)?);
        let report = project::root().join(&self.report);
        write_report(&report, &base_url, &operator.name(), &outcomes)?;
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
    if !scenarios.is_empty() {
        println!("==> end-to-end scenarios against {base_url}");
    }
    let mut outcomes = Vec::new();
    for (name, scenario) in scenarios {
        let started = Instant::now();
        let result = block_on(scenario(&stack))?;
        outcomes.push(record(name, started, result.map(|()| None)));
    }
    Ok(outcomes)
}

/// The `metrics` scenario, where the target can reach the backend's `/metrics` (not through
/// the UI's origin: with `--base-url` alone it says so and does not run).
pub fn run_metrics(base_url: &str, operator: &Operator) -> anyhow::Result<Vec<Outcome>> {
    if matches!(operator, Operator::Url(_)) {
        println!(
            "    metrics      not run: the backend's /metrics is reached through the target, and \
             this run has only a URL"
        );
        return Ok(Vec::new());
    }
    let stack = client::Stack::new(base_url)?;
    let started = Instant::now();
    let result = modes::metrics(&stack, operator);
    Ok(vec![record("metrics", started, result.map(Some))])
}

/// Runs `modes` in order against the stack at `base_url`, acted on through `operator`.
pub fn run_modes(
    base_url: &str,
    operator: &Operator,
    modes: &[Mode],
) -> anyhow::Result<Vec<Outcome>> {
    let stack = client::Stack::new(base_url)?;
    let mut outcomes = Vec::new();
    for mode in modes {
        println!("==> {} on {} ({base_url})", mode.name(), operator.name());
        let started = Instant::now();
        let result = mode.run(&stack, operator);
        outcomes.push(record(mode.name(), started, result.map(Some)));
    }
    Ok(outcomes)
}

fn record(name: &str, started: Instant, result: anyhow::Result<Option<Value>>) -> Outcome {
    let seconds = started.elapsed().as_secs_f64();
    match &result {
        Ok(_) => println!("    {name:<12} passed  {seconds:>6.2}s"),
        Err(err) => println!("    {name:<12} FAILED  {seconds:>6.2}s: {err:#}"),
    }
    let (details, error) = match result {
        Ok(details) => (details, None),
        Err(err) => (None, Some(format!("{err:#}"))),
    };
    Outcome {
        scenario: name.to_owned(),
        passed: error.is_none(),
        seconds,
        error,
        details,
    }
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

pub fn write_report(
    path: &std::path::Path,
    base_url: &str,
    target: &str,
    outcomes: &[Outcome],
) -> anyhow::Result<()> {
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let report = Report {
        base_url,
        target: target.to_owned(),
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

/// The scenarios a report says failed, each with its error, as `: name: error; name: error`
/// to append to the message of a failed `test-e2e` run (empty when the report is missing,
/// unreadable or names no failure: then the run's own output is all there is).
pub fn failures_in_report(path: &std::path::Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let Ok(report) = serde_json::from_str::<Value>(&text) else {
        return String::new();
    };
    let failed: Vec<String> = report["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|scenario| scenario["passed"] == false)
        .map(|scenario| {
            format!(
                "{}: {}",
                scenario["scenario"].as_str().unwrap_or("?"),
                scenario["error"].as_str().unwrap_or("no error recorded")
            )
        })
        .collect();
    if failed.is_empty() {
        String::new()
    } else {
        format!(": {}", failed.join("; "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_failed_runs_message_names_each_failed_scenario_and_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        assert_eq!(failures_in_report(&path), "", "no report yet");
        let outcomes = [
            Outcome {
                scenario: "health".into(),
                passed: true,
                seconds: 0.1,
                error: None,
                details: None,
            },
            Outcome {
                scenario: "chaos".into(),
                passed: false,
                seconds: 9.0,
                error: Some("3 requests failed".into()),
                details: None,
            },
        ];
        write_report(&path, "http://127.0.0.1:1", "docker", &outcomes).unwrap();
        assert_eq!(failures_in_report(&path), ": chaos: 3 requests failed");
        write_report(&path, "http://127.0.0.1:1", "docker", &outcomes[..1]).unwrap();
        assert_eq!(failures_in_report(&path), "");
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(failures_in_report(&path), "");
    }

    #[test]
    fn durations_read_with_or_without_a_unit() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(
            parse_duration("0")
                .unwrap_err()
                .contains("at least one second")
        );
        assert!(
            parse_duration("ten")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_duration("5d").unwrap_err().contains("unit"));
    }
}
