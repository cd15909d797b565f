//! `cargo xtask bench inner-loop`: how long an edit takes to reach the running stack.
//!
//! Each round makes one kind of one-line edit, times `cargo xtask up` until the stack is ready
//! again, then reverts the edit and times `up` again. The kinds:
//! - `backend`: a comment line at the top of a backend source file (every line below moves, so
//!   the binary's panic locations, and so its bytes, change: the backend is rebuilt and replaced);
//! - `frontend`: the same in the frontend's code;
//! - `asset`: a comment in the UI's stylesheet (embedded in the frontend binary);
//! - `same-bytes`: a comment at the end of a backend file: rebuilt, the same bytes, nothing
//!   replaced.
//!
//! It prints each run and then, per kind, the median and range of the edit and of the revert,
//! and what `up` replaced. `up` runs with the flags given after `--` (default: the stack `up`
//! last started).

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, bail};

use crate::project;

/// Time edits from saving a file to the stack serving it.
#[derive(clap::Args)]
pub struct InnerLoop {
    /// Rounds per kind of edit (the kinds alternate within a round).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Only these kinds (repeatable): backend, frontend, asset, same-bytes.
    #[arg(long = "kind")]
    kinds: Vec<String>,
    /// Flags for `cargo xtask up`, after `--` (e.g. `-- --target kube --registry localhost:5000`).
    #[arg(last = true)]
    up_args: Vec<String>,
}

/// One kind of edit: the file and where the line goes.
struct Edit {
    kind: &'static str,
    file: &'static str,
    line: &'static str,
    at_top: bool,
}

const EDITS: [Edit; 4] = [
    Edit {
        kind: "backend",
        file: "services/backend/src/routes/ops.rs",
        line: "// bench inner-loop: a one-line edit\n",
        at_top: true,
    },
    Edit {
        kind: "frontend",
        file: "services/frontend/src/routes.rs",
        line: "// bench inner-loop: a one-line edit\n",
        at_top: true,
    },
    Edit {
        kind: "asset",
        file: "services/frontend/assets/app.css",
        line: "/* bench inner-loop: a one-line edit */\n",
        at_top: false,
    },
    Edit {
        kind: "same-bytes",
        file: "services/backend/src/routes/ops.rs",
        line: "// bench inner-loop: a comment that changes no byte of the binary\n",
        at_top: false,
    },
];

/// What one `up` took and what it replaced.
struct Run {
    seconds: f64,
    replaced: String,
}

impl InnerLoop {
    pub fn run(self) -> anyhow::Result<()> {
        for kind in &self.kinds {
            if !EDITS.iter().any(|e| e.kind == kind) {
                bail!("no edit kind `{kind}`; the kinds: backend, frontend, asset, same-bytes");
            }
        }
        let edits: Vec<&Edit> = EDITS
            .iter()
            .filter(|e| self.kinds.is_empty() || self.kinds.iter().any(|k| k == e.kind))
            .collect();
        println!("==> a first `up`, so every round starts from a running, current stack");
        let first = self.up()?;
        println!("    {:.1} s, replaced: {}", first.seconds, first.replaced);

        let mut results: Vec<(&str, Vec<Run>, Vec<Run>)> = edits
            .iter()
            .map(|e| (e.kind, Vec::new(), Vec::new()))
            .collect();
        for round in 1..=self.rounds {
            for (edit, (_, edited, reverted)) in edits.iter().zip(results.iter_mut()) {
                let path = project::root().join(edit.file);
                let original = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let restore = Restore {
                    path: path.clone(),
                    original: original.clone(),
                };
                let changed = if edit.at_top {
                    format!("{}{original}", edit.line)
                } else {
                    format!("{original}{}", edit.line)
                };
                std::fs::write(&path, changed)
                    .with_context(|| format!("editing {}", path.display()))?;
                let run = self.up()?;
                println!(
                    "round {round} {:<10} edit   {:>6.1} s  replaced: {}",
                    edit.kind, run.seconds, run.replaced
                );
                edited.push(run);
                drop(restore);
                let run = self.up()?;
                println!(
                    "round {round} {:<10} revert {:>6.1} s  replaced: {}",
                    edit.kind, run.seconds, run.replaced
                );
                reverted.push(run);
            }
        }

        println!();
        println!(
            "{:<10} {:>22} {:>22}  replaced (edit / revert)",
            "edit", "edit: median [range]", "revert: median [range]"
        );
        for (kind, edited, reverted) in &results {
            println!(
                "{kind:<10} {:>22} {:>22}  {} / {}",
                summary(edited),
                summary(reverted),
                edited.first().map_or("-", |r| r.replaced.as_str()),
                reverted.first().map_or("-", |r| r.replaced.as_str()),
            );
        }
        Ok(())
    }

    /// Runs `cargo xtask up` with the given flags; its output is kept and shown on failure.
    fn up(&self) -> anyhow::Result<Run> {
        let xtask = std::env::current_exe().context("finding the xtask binary")?;
        let mut args = vec!["up".to_owned()];
        args.extend(self.up_args.iter().cloned());
        let started = Instant::now();
        let output = duct::cmd(xtask, &args)
            .stderr_to_stdout()
            .stdout_capture()
            .unchecked()
            .run()
            .context("running `cargo xtask up`")?;
        let seconds = started.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "`cargo xtask up {}` failed:\n{text}",
                self.up_args.join(" ")
            );
        }
        Ok(Run {
            seconds,
            replaced: replaced(&text),
        })
    }
}

/// What the docker target's `up` said it replaced (`backend`, `frontend`, both, or `nothing`);
/// on a cluster the rollout's own lines say which pods rolled.
fn replaced(output: &str) -> String {
    let replacing = output
        .lines()
        .find_map(|line| line.strip_prefix("==> replacing "));
    let Some(replacing) = replacing else {
        return if output.contains("left running") {
            "nothing".to_owned()
        } else {
            "(a cluster: see the rollout)".to_owned()
        };
    };
    ["backend", "frontend"]
        .into_iter()
        .filter(|service| replacing.contains(service))
        .collect::<Vec<_>>()
        .join("+")
}

fn summary(runs: &[Run]) -> String {
    let mut seconds: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    if seconds.is_empty() {
        return "-".to_owned();
    }
    seconds.sort_by(f64::total_cmp);
    let median = if seconds.len() % 2 == 1 {
        seconds[seconds.len() / 2]
    } else {
        f64::midpoint(seconds[seconds.len() / 2 - 1], seconds[seconds.len() / 2])
    };
    format!(
        "{median:.1} s [{:.1}–{:.1}]",
        seconds[0],
        seconds[seconds.len() - 1]
    )
}

/// Puts a file back as it was when dropped, so a failed `up` leaves no edit behind.
struct Restore {
    path: PathBuf,
    original: String,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Err(err) = std::fs::write(&self.path, &self.original) {
            eprintln!("could not restore {}: {err}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_up_replaced_is_read_from_its_output() {
        assert_eq!(
            replaced(
                "==> todo-chatbot-backend: unchanged (…): left running\n==> replacing todo-chatbot-frontend\n"
            ),
            "frontend"
        );
        assert_eq!(
            replaced("==> replacing todo-chatbot-backend and todo-chatbot-frontend\n"),
            "backend+frontend"
        );
        assert_eq!(
            replaced("==> todo-chatbot-frontend: unchanged (…): left running\nready\n"),
            "nothing"
        );
        assert_eq!(
            replaced("    rolled out in 3.1s\n"),
            "(a cluster: see the rollout)"
        );
    }

    #[test]
    fn the_median_and_range_are_of_all_runs() {
        let runs = |s: &[f64]| -> Vec<Run> {
            s.iter()
                .map(|&seconds| Run {
                    seconds,
                    replaced: String::new(),
                })
                .collect()
        };
        assert_eq!(summary(&runs(&[3.0, 1.0, 2.0])), "2.0 s [1.0–3.0]");
        assert_eq!(summary(&runs(&[4.0, 1.0])), "2.5 s [1.0–4.0]");
        assert_eq!(summary(&[]), "-");
    }
}
