//! The xtask's async runtime: built once per run, on first use, for every command that talks
//! to the Docker Engine, a cluster or the services.

use std::{future::Future, sync::OnceLock};

use anyhow::Context;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// Runs `future` to completion on the process's runtime (two workers: the machine's size).
pub fn block_on<F: Future>(future: F) -> anyhow::Result<F::Output> {
    if RUNTIME.get().is_none() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let _ = RUNTIME.set(runtime);
    }
    let runtime = RUNTIME.get().context("the async runtime is not there")?;
    Ok(runtime.block_on(future))
}
