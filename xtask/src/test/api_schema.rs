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
const DEFAULT_EXAMPLES: u32 = 50;

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
    let examples = positive_env("API_SCHEMA_EXAMPLES")?.unwrap_or(DEFAULT_EXAMPLES);
    let seed = match positive_env("API_SCHEMA_SEED")? {
        Some(seed) => seed,
        None => rand::rng().random_range(1..u32::MAX),
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
             (its report above gives each failing call as a curl command)",
            failed.join(", ")
        );
    }
    Ok(Outcome::Passed)
}

/// A whole number above 0 from the environment, if set.
fn positive_env(name: &str) -> anyhow::Result<Option<u32>> {
    match std::env::var(name) {
        Ok(value) => value
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .with_context(|| format!("{name}={value:?} is not a whole number above 0")),
        Err(_) => Ok(None),
    }
}

/// A fresh backend (and frontend), a user, and one schemathesis run against `via`.
fn run_against(
    sh: &Shell,
    schemathesis: &Path,
    via: Via,
    examples: u32,
    seed: u32,
) -> anyhow::Result<()> {
    let work = project::root().join("target/api-schema").join(via.name());
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let secret: String = rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
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
    let (user_id, token) = crate::runtime::block_on(async {
        let client = reqwest::Client::new();
        backend.wait_ready(&client, "/readyz", READY_WITHIN).await?;
        if let Some(frontend) = &frontend {
            frontend
                .wait_ready(&client, "/readyz", READY_WITHIN)
                .await?;
        }
        sign_up(&client, &backend.base_url).await
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
    .env("TODO_TOKEN", &token)
    .env("TODO_USER_ID", &user_id)
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
    run.context("schemathesis reported failures")?;
    Ok(())
}

/// A binary of the workspace's debug build.
fn debug_binary(name: &str) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| project::root().join("target"))
        .join("debug")
        .join(name)
}

/// Signs up a user; its id and token.
async fn sign_up(client: &reqwest::Client, backend: &str) -> anyhow::Result<(String, String)> {
    let response = client
        .post(format!("{backend}/api/auth/sign-up"))
        .json(&serde_json::json!({
            "email": "schemathesis@example.com",
            "password": "correct-horse-battery",
        }))
        .send()
        .await
        .context("signing up the test user")?;
    let status = response.status();
    let session: serde_json::Value = response
        .json()
        .await
        .context("reading the sign-up answer")?;
    if status != reqwest::StatusCode::CREATED {
        bail!("sign-up answered {status}: {session}");
    }
    let field = |pointer: &str| {
        session
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("the sign-up answer has no {pointer}: {session}"))
    };
    Ok((field("/user/id")?, field("/token")?))
}
