//! The backend binary: with no arguments it serves; subcommands do one job and exit.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use todo_backend::{Application, db::Database, startup};
use todo_config::{BackendConfig, MigrateConfig};

/// The Todo Chatbot API server. Configuration comes from the environment (and `CONFIG_FILE`).
#[derive(Debug, Parser)]
#[command(name = "backend", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations and exit (for a Kubernetes hook Job).
    Migrate,
    /// Exit 0 when the server answers 200 at URL within 3 seconds, 1 otherwise.
    Healthcheck {
        /// Defaults to http://127.0.0.1:$PORT/readyz.
        #[arg(long)]
        url: Option<String>,
    },
    /// A task round trip through a running deployment (sign up a throwaway account, create,
    /// list, delete), for `helm test`; exits 1 naming the step that failed.
    Smoke {
        /// The deployment's address, e.g. http://todo-chatbot-frontend:3000
        #[arg(long)]
        url: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None => serve().await,
            Some(Command::Migrate) => migrate().await,
            Some(Command::Healthcheck { url }) => healthcheck(url).await,
            Some(Command::Smoke { url }) => {
                todo_service_kit::tls::install_provider();
                todo_backend::smoke::round_trip(&url).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config() -> anyhow::Result<BackendConfig> {
    let config = BackendConfig::load().context("invalid configuration")?;
    todo_service_kit::logging::init(&config.log).context("starting logging")?;
    Ok(config)
}

async fn serve() -> anyhow::Result<()> {
    let config = load_config()?;
    Application::build(config).await?.run_until_stopped().await
}

async fn migrate() -> anyhow::Result<()> {
    let config = MigrateConfig::load().context("invalid configuration")?;
    todo_service_kit::logging::init(&config.log).context("starting logging")?;
    todo_service_kit::tls::install_provider();
    let db = Database::connect_lazy(&config.database, 1)
        .with_context(|| format!("opening the database ({})", config.database.describe()))?;
    db.migrate_waiting(startup::MIGRATION_WAIT)
        .await
        .with_context(|| format!("applying migrations to {}", config.database.describe()))?;
    tracing::info!(database = %config.database.describe(), "migrations applied");
    db.close().await;
    Ok(())
}

async fn healthcheck(url: Option<String>) -> anyhow::Result<()> {
    let url = url.unwrap_or_else(|| {
        let port = std::env::var("PORT").ok().filter(|p| !p.trim().is_empty());
        format!(
            "http://127.0.0.1:{}/readyz",
            port.as_deref().unwrap_or("8000").trim()
        )
    });
    todo_service_kit::healthcheck::check(&url)
        .await
        .context("healthcheck failed")?;
    Ok(())
}
