//! The `api-schema` suite: schemathesis generates valid and invalid calls of every operation of
//! the backend's own OpenAPI document (`/api/openapi.json`) with a signed-up user's token, and
//! runs every check on the answers: no 5xx, no status code, content type, header or body the
//! document does not allow, invalid input refused and valid input accepted. Twice: straight to
//! the backend, then through the frontend's proxy, each time on a fresh backend and database
//! (sign-in throttling from one run would otherwise shape the next).

use std::{path::Path, time::Duration};

use anyhow::{Context, bail};
use rand::Rng;
use xshell::{Shell, cmd};

use crate::{
    procs::{self, Server},
    project::{self, Outcome},
    pytools,
};

/// Examples per operation and generation mode, unless `API_SCHEMA_EXAMPLES` says otherwise.
const DEFAULT_EXAMPLES: u64 = 50;

const READY_WITHIN: Duration = Duration::from_secs(60);

/// Where the calls go.
#[derive(Clone, Copy)]
enum Via {
    Backend,
    Frontend,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Self::Backend => "backend",
            Self::Frontend => "frontend",
        }
    }
}

pub fn suite(sh: &Shell) -> anyhow::Result<Outcome> {
    let schemathesis = match pytools::tool("schemathesis") {
        Ok(path) => path,
        Err(error) => return project::skip_or_fail("api-schema", &format!("{error:#}")),
    };
    let examples = project::positive_env("API_SCHEMA_EXAMPLES")?.unwrap_or(DEFAULT_EXAMPLES);
    let seed = match project::positive_env("API_SCHEMA_SEED")? {
        Some(seed) => seed,
        None => rand::rng().random_range(1..u64::from(u32::MAX)),
    };
    println!(
        "==> schemathesis: {examples} examples per operation, seed {seed} \
         (replay with API_SCHEMA_SEED={seed})"
    );
    // The debug binaries: the `unit` suite has built nearly everything they need.
    cmd!(sh, "cargo build --locked -p todo-backend -p todo-frontend")
        .run()
        .context("building the backend and the frontend")?;
    let mut failed = Vec::new();
    for via in [Via::Backend, Via::Frontend] {
        if let Err(error) = run_against(sh, &schemathesis, via, examples, seed) {
            println!("!!!! schemathesis through the {}: {error:#}", via.name());
            failed.push(via.name());
        }
    }
    if !failed.is_empty() {
        bail!(
            "schemathesis found answers the OpenAPI document does not allow, via: {} \
             (its report above gives each failing call as a curl command; the services' logs \
             are in target/api-schema/; replay the same calls with API_SCHEMA_SEED={seed} \
             cargo xtask test --only api-schema)",
            failed.join(", ")
        );
    }
    Ok(Outcome::Passed)
}

/// A fresh backend (and frontend), a user, and one schemathesis run against `via`.
fn run_against(
    sh: &Shell,
    schemathesis: &Path,
    via: Via,
    examples: u64,
    seed: u64,
) -> anyhow::Result<()> {
    let work = project::target_dir().join("api-schema").join(via.name());
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let secret = crate::tokens::random_secret();
    let api_port = procs::free_port()?;
    let backend = Server::start(
        "backend",
        duct::cmd!(debug_binary("backend"))
            .env("PORT", api_port.to_string())
            .env("BIND", "127.0.0.1")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/todo.db", work.display()),
            )
            .env("BETTER_AUTH_SECRET", &secret)
            .env("CHAT_ENGINE", "builtin"),
        api_port,
        &work.join("backend.log"),
    )?;
    let frontend = match via {
        Via::Backend => None,
        Via::Frontend => {
            let ui_port = procs::free_port()?;
            Some(Server::start(
                "frontend",
                duct::cmd!(debug_binary("frontend"))
                    .env("PORT", ui_port.to_string())
                    .env("BIND", "127.0.0.1")
                    .env("BACKEND_URL", &backend.base_url),
                ui_port,
                &work.join("frontend.log"),
            )?)
        }
    };
    let user = crate::runtime::block_on(async {
        let client = crate::http::client()?;
        backend.wait_ready(&client, "/readyz", READY_WITHIN).await?;
        if let Some(frontend) = &frontend {
            frontend
                .wait_ready(&client, "/readyz", READY_WITHIN)
                .await?;
        }
        crate::e2e::client::Stack::new(&backend.base_url)?
            .sign_up("schemathesis")
            .await
    })??;
    let target = frontend.as_ref().unwrap_or(&backend).base_url.clone();
    let config = project::deploy_dir().join("tools/schemathesis.toml");
    let schema = format!("{target}/api/openapi.json");
    let (examples, seed) = (examples.to_string(), seed.to_string());
    println!("==> schemathesis through the {} ({target})", via.name());
    // Its caches (.schemathesis/, .hypothesis/) go beside the logs, not into the checkout.
    let _in_work = sh.push_dir(&work);
    let run = cmd!(
        sh,
        "{schemathesis} --config-file {config} run {schema} --max-examples {examples} --seed {seed}"
    )
    .env("TODO_BASE_URL", &target)
    .env("TODO_TOKEN", &user.token)
    .env("TODO_USER_ID", &user.id)
    .env("NO_COLOR", "1")
    .run();
    for server in std::iter::once(&backend).chain(&frontend) {
        if let Some(status) = server.exited() {
            bail!(
                "the {} exited during the run ({status}); its log:\n{}",
                server.name,
                server.log_tail()
            );
        }
    }
    run.with_context(|| {
        format!(
            "schemathesis reported failures through the {} (logs in {})",
            via.name(),
            work.display()
        )
    })?;
    Ok(())
}

/// A binary of the workspace's debug build.
fn debug_binary(name: &str) -> std::path::PathBuf {
    project::target_dir().join("debug").join(name)
}
