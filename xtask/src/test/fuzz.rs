//! The `fuzz` suite: every cargo-fuzz target in `fuzz/` runs for a bounded time, starting from
//! its corpus kept in the repository (`fuzz/corpus/<target>`, read only here: what a run finds
//! goes to `target/fuzz-corpus/<target>`). A crash, a hang past [`INPUT_TIMEOUT_SECONDS`] or a
//! 5xx fails the suite; libFuzzer saves the input under `fuzz/artifacts/<target>/` and the suite
//! prints it, with the command that replays it.

use std::{path::Path, time::SystemTime};

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::project::{self, Outcome};

/// The targets, each with its libFuzzer dictionary (relative to `fuzz/`), if any.
pub const TARGETS: [(&str, Option<&str>); 4] = [
    ("chat_parser", None),
    ("authorization", None),
    ("mcp_request", Some("dicts/mcp_request.dict")),
    ("config", None),
];

/// How long each target runs, unless `FUZZ_SECONDS` says otherwise.
const DEFAULT_SECONDS: u64 = 30;

/// One input taking longer than this is a hang, and a failure.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// cargo fuzz's flags: no sanitizer (the code under test is safe Rust; this builds on the
/// stable toolchain) and the dev profile (it builds in a third of the release time).
const BUILD_FLAGS: [&str; 3] = ["--sanitizer", "none", "--dev"];

pub fn suite(sh: &Shell) -> anyhow::Result<Outcome> {
    if which::which("cargo-fuzz").is_err() {
        return project::skip_or_fail(
            "fuzz",
            "cargo-fuzz is needed; install it with `cargo xtask doctor --install` \
             (or: cargo install cargo-fuzz --locked)",
        );
    }
    let seconds = project::positive_env("FUZZ_SECONDS")?.unwrap_or(DEFAULT_SECONDS);
    let root = project::root();
    let _in_root = sh.push_dir(&root);
    cmd!(sh, "cargo fuzz build {BUILD_FLAGS...}")
        .run()
        .context("building the fuzz targets (fuzz/)")?;
    let mut failed = Vec::new();
    for (target, dictionary) in TARGETS {
        let kept = root.join("fuzz/corpus").join(target);
        let found = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&found).with_context(|| format!("creating {}", found.display()))?;
        let mut libfuzzer_args = vec![
            format!("-max_total_time={seconds}"),
            format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
            "-print_final_stats=1".to_owned(),
        ];
        if let Some(dictionary) = dictionary {
            libfuzzer_args.push(format!(
                "-dict={}",
                root.join("fuzz").join(dictionary).display()
            ));
        }
        println!(
            "==> fuzzing {target} for {seconds} s (corpus {})",
            kept.display()
        );
        let started = SystemTime::now();
        let run = cmd!(
            sh,
            "cargo fuzz run {BUILD_FLAGS...} {target} {found} {kept} -- {libfuzzer_args...}"
        )
        .run();
        if run.is_err() {
            report_findings(target, &root.join("fuzz/artifacts").join(target), started);
            failed.push(target);
        }
    }
    if !failed.is_empty() {
        bail!(
            "fuzzing found inputs that fail: {} (each saved input is printed above)",
            failed.join(", ")
        );
    }
    Ok(Outcome::Passed)
}

/// Prints every input libFuzzer saved for `target` since `since`, and how to replay it.
fn report_findings(target: &str, artifacts: &Path, since: SystemTime) {
    let Ok(entries) = std::fs::read_dir(artifacts) else {
        println!(
            "{target}: libFuzzer failed and saved no input under {}",
            artifacts.display()
        );
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let fresh = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified >= since);
        if !fresh {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        println!("{target}: input saved at {}", path.display());
        println!("  bytes: b\"{}\"", bytes.escape_ascii());
        println!(
            "  replay: cargo fuzz run {} {target} {}",
            BUILD_FLAGS.join(" "),
            path.display()
        );
    }
}
