//! The frontend binary: with no arguments it serves the UI; `healthcheck` probes a running one.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use todo_config::FrontendConfig;
use todo_frontend::Application;
use todo_service_kit::healthcheck;

/// The Todo Chatbot's web UI, and the proxy from it to the backend.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when the frontend answers 200, 1 otherwise, within 3 seconds.
    Healthcheck {
        /// What to ask; by default `http://127.0.0.1:$PORT/readyz`.
        #[arg(long)]
        url: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        None => runtime.block_on(serve()),
        Some(Command::Healthcheck { url }) => runtime.block_on(probe(url)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = FrontendConfig::load().context("reading the frontend's configuration")?;
    todo_service_kit::logging::init(&config.log).context("starting logging")?;
    let app = Application::build(config)
        .await
        .context("starting the frontend")?;
    app.run_until_stopped().await.context("serving")
}

async fn probe(url: Option<String>) -> anyhow::Result<()> {
    let url = match url {
        Some(url) => url,
        None => {
            let config = FrontendConfig::load().context("reading PORT for the default URL")?;
            format!("http://127.0.0.1:{}/readyz", config.port)
        }
    };
    healthcheck::check(&url).await.context("healthcheck failed")
}
