//! The alert rules, exactly as the production profile renders them, through `promtool check
//! rules` and the unit tests in `deploy/monitoring/tests/` (`promtool test rules`).

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use super::Render;
use crate::project::{self, Outcome};

/// `deploy/monitoring/tests`: the promtool test files; they load `rules.yaml` from their folder.
fn tests_dir() -> std::path::PathBuf {
    project::deploy_dir().join("monitoring").join("tests")
}

pub fn run(sh: &Shell, production: &Render) -> anyhow::Result<Outcome> {
    println!("==> promtool: the rendered PrometheusRule, checked and unit-tested");
    let Ok(promtool) = which::which("promtool") else {
        return project::skip_or_fail(
            "lint/promtool",
            "promtool is not installed; install it with `apt-get install -y prometheus`",
        );
    };
    let rule = production
        .objects
        .iter()
        .find(|o| o.kind() == "PrometheusRule")
        .context("the production profile renders no PrometheusRule")?;
    let work = tempfile::tempdir().context("creating a folder for the rule tests")?;
    // A rule file is YAML, and JSON is YAML: the rendered spec is written as it is.
    let rules = work.path().join("rules.yaml");
    let spec = serde_json::to_string_pretty(&rule.object["spec"]).context("encoding the rules")?;
    std::fs::write(&rules, spec).context("writing rules.yaml")?;

    let mut tests = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(tests_dir()).context("listing deploy/monitoring/tests")? {
        let path = entry.context("listing deploy/monitoring/tests")?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            cases += text
                .lines()
                .filter(|l| l.trim_start().starts_with("- eval_time:"))
                .count();
            let copy = work
                .path()
                .join(path.file_name().context("a test file has no name")?);
            std::fs::write(&copy, text).with_context(|| format!("copying {}", path.display()))?;
            tests.push(copy);
        }
    }
    if tests.is_empty() {
        bail!("no promtool tests in {}", tests_dir().display());
    }
    tests.sort();
    // Test files name `rules.yaml`; promtool resolves it next to each test file.
    cmd!(sh, "{promtool} check rules {rules}")
        .run()
        .context("promtool check rules failed on the rendered PrometheusRule")?;
    let test_files = tests.clone();
    cmd!(sh, "{promtool} test rules {test_files...}")
        .run()
        .context("promtool test rules failed (deploy/monitoring/tests)")?;
    println!(
        "    {} test file(s), {cases} alert evaluations passed",
        tests.len()
    );
    Ok(Outcome::Passed)
}
