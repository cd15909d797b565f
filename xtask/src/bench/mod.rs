//! `cargo xtask bench`: performance measured side by side with the seed's own stack
//! (`../shared/peers/fastapi-todo`), on the same machine, data and load, reported as ratios.
//!
//! Benchmarks print figures; they never pass or fail on a timing (these machines are noisy).

mod api;
mod chat;
mod inner_loop;
mod latency;
mod open_loop;
mod peer;
mod stats;
mod store;
mod wrk;

use std::path::PathBuf;

use xshell::Shell;

use crate::catalog::SERVICES;
use crate::images::fastpath;

/// How long the benchmarks' tokens are valid: longer than any run.
const TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// Measure the backend against the peer, or the chat engine under concurrent users.
#[derive(clap::Args)]
pub struct Bench {
    #[command(subcommand)]
    target: Target,
}

#[derive(clap::Subcommand)]
enum Target {
    /// GET the list of tasks under concurrent connections (wrk), ours vs the FastAPI peer.
    Api(api::Api),
    /// Built-in-engine chat turns (add, then list) over HTTP with concurrent users.
    Chat(chat::Chat),
    /// Latency at steady offered rates (open loop): listings (ours vs the peer), chat turns.
    Latency(latency::Latency),
    /// One-line edits timed from the save to the stack serving them (`up` after each).
    InnerLoop(inner_loop::InnerLoop),
}

impl Bench {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.target {
            Target::Api(cmd) => cmd.run(sh),
            Target::Chat(cmd) => cmd.run(sh),
            Target::Latency(cmd) => cmd.run(sh),
            Target::InnerLoop(cmd) => cmd.run(),
        }
    }
}

/// Builds (incrementally) and returns the backend binary the images carry: what ships is what
/// is measured, and `images`, `up` and `bench` share one release build.
fn shipped_backend(sh: &Shell) -> anyhow::Result<PathBuf> {
    println!("building the static release binaries (as `cargo xtask images` does)");
    fastpath::build_static_binaries(sh, &SERVICES, fastpath::BuildProfile::Release)?;
    let [backend, _] = &SERVICES;
    Ok(fastpath::binary_path(
        backend,
        fastpath::BuildProfile::Release,
    ))
}

/// Whether this process may generate load itself. A debug build of the xtask (what `cargo xtask`
/// runs) is an unoptimised HTTP client that would add its own milliseconds to every latency,
/// so the load-generating benches build the xtask with the `stack` profile (release without LTO)
/// and run again from it; returns false when that run has done the work.
fn optimised_or_rerun(sh: &Shell) -> anyhow::Result<bool> {
    use anyhow::{Context, bail};
    const RERUN: &str = "XTASK_BENCH_OPTIMISED";
    if !cfg!(debug_assertions) || std::env::var_os(RERUN).is_some() {
        return Ok(true);
    }
    println!("the load generator runs optimised: building the xtask with the `stack` profile");
    xshell::cmd!(sh, "cargo build --quiet --profile stack --locked -p xtask")
        .run()
        .context("building the optimised xtask")?;
    let optimised = crate::project::target_dir().join("stack").join("xtask");
    let status = std::process::Command::new(&optimised)
        .args(std::env::args_os().skip(1))
        .env(RERUN, "1")
        .status()
        .with_context(|| format!("running {}", optimised.display()))?;
    if !status.success() {
        bail!("the optimised bench run failed ({status})");
    }
    Ok(false)
}

/// Our backend on 127.0.0.1:`port` with `database_url` and the bench's signing secret.
fn backend_command(
    backend: &std::path::Path,
    port: u16,
    database_url: &str,
    secret: &str,
) -> duct::Expression {
    duct::cmd!(backend)
        .env("PORT", port.to_string())
        .env("BIND", "127.0.0.1")
        .env("DATABASE_URL", database_url)
        .env("BETTER_AUTH_SECRET", secret)
}
