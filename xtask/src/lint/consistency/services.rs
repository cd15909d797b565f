//! Starts the real `backend` and `frontend` binaries with the env the Minikube profile renders
//! (only addresses, the database file and the key file swapped for local ones), checks every
//! rendered probe path answers 200, drives a task and a chat round trip through the frontend,
//! and returns the metric names both services export.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};
use serde_json::json;
use xshell::{Shell, cmd};

use super::{Container, Service};
use crate::http::{self, Reply};
use crate::procs::{Server, free_port};
use crate::project;

/// How long a started service may take to answer its probes (the frontend's readiness waits
/// for its first backend check).
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A `helm test` Job's command line for the backend binary.
#[derive(Debug, Clone)]
pub struct HelmTest {
    pub name: String,
    pub args: Vec<String>,
}

pub fn exercise(
    sh: &Shell,
    containers: &[Container],
    helm_tests: &[HelmTest],
) -> anyhow::Result<BTreeSet<String>> {
    let find = |service| {
        containers
            .iter()
            .find(|c| c.service == service)
            .with_context(|| format!("the Minikube profile renders no {service:?} Deployment"))
    };
    let (backend_spec, frontend_spec) = (find(Service::Backend)?, find(Service::Frontend)?);

    cmd!(sh, "cargo build --quiet -p todo-backend -p todo-frontend")
        .run()
        .context("building the backend and frontend binaries")?;
    let bin = project::target_dir().join("debug");
    let work = tempfile::tempdir().context("creating a work folder for the services")?;

    let key_file = work.path().join("better-auth-secret");
    std::fs::write(&key_file, "lint-only-key-not-a-secret-0123456789abcdef\n")
        .context("writing the key file")?;
    let mut backend_env = backend_spec.env.clone();
    let backend_port = free_port()?;
    local_overrides(&mut backend_env, backend_port);
    backend_env.insert(
        "DATABASE_URL".into(),
        format!("sqlite://{}/todo.db", work.path().display()),
    );
    if backend_env.contains_key("BETTER_AUTH_SECRET_FILE") {
        backend_env.insert(
            "BETTER_AUTH_SECRET_FILE".into(),
            key_file.display().to_string(),
        );
    }
    let backend = start(
        "backend",
        &bin.join("backend"),
        &backend_env,
        backend_port,
        work.path(),
    )?;
    let mut frontend_env = frontend_spec.env.clone();
    let frontend_port = free_port()?;
    local_overrides(&mut frontend_env, frontend_port);
    frontend_env.insert("BACKEND_URL".into(), backend.base_url.clone());
    let client = http::client()?;
    crate::runtime::block_on(async {
        check_probes(&client, &backend, &backend_spec.probe_paths).await?;
        let frontend = start(
            "frontend",
            &bin.join("frontend"),
            &frontend_env,
            frontend_port,
            work.path(),
        )?;
        check_probes(&client, &frontend, &frontend_spec.probe_paths).await?;
        println!(
            "    backend and frontend serve every rendered probe path ({:?})",
            backend_spec.probe_paths
        );

        let (backend_binary, tests) = (bin.join("backend"), helm_tests.to_vec());
        tokio::task::block_in_place(|| run_helm_tests(&backend_binary, &tests, frontend_port))?;
        round_trip(&client, &frontend.base_url)
            .await
            .with_context(|| {
                format!(
                    "the round trip through the frontend failed; backend log:\n{}",
                    backend.log_tail()
                )
            })?;
        let metrics = format!("{}/metrics", backend.base_url);
        let mut exported = metric_names(&http::get(&client, &metrics, None).await?.body);
        drop(backend);
        // With the backend gone, a proxied call fails: the frontend's error series appear.
        let proxied = format!("{}/api/openapi.json", frontend.base_url);
        let status = http::get(&client, &proxied, None).await?.status;
        if !(500..600).contains(&status) {
            bail!(
                "the frontend answered {status} for a proxied call with the backend stopped; expected a 5xx"
            );
        }
        let metrics = format!("{}/metrics", frontend.base_url);
        exported.extend(metric_names(
            &http::get(&client, &metrics, None).await?.body,
        ));
        println!(
            "    both services exported {} metric series names after the round trip",
            exported.len()
        );
        Ok(exported)
    })?
}

/// Runs each `helm test` command as the test Job would, with the frontend Service's address
/// (`http://<name>:3000`) replaced by the local frontend's.
fn run_helm_tests(backend: &Path, tests: &[HelmTest], frontend_port: u16) -> anyhow::Result<()> {
    if tests.is_empty() {
        bail!("the Minikube profile renders no `helm test` pods");
    }
    for test in tests {
        let args: Vec<String> = test
            .args
            .iter()
            .map(|arg| {
                match arg
                    .strip_prefix("http://")
                    .and_then(|rest| rest.split_once('/'))
                {
                    Some((host, path)) if host.ends_with(":3000") => {
                        format!("http://127.0.0.1:{frontend_port}/{path}")
                    }
                    _ => arg.clone(),
                }
            })
            .collect();
        // The test pods set no env at all.
        let status = Command::new(backend)
            .env_clear()
            .args(&args)
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("running the helm test {}", test.name))?;
        if !status.success() {
            bail!(
                "the helm test {} (`backend {}`) failed: {status}",
                test.name,
                args.join(" ")
            );
        }
    }
    println!(
        "    the {} `helm test` commands pass against the local frontend",
        tests.len()
    );
    Ok(())
}

/// Local addresses instead of the pod's: loopback and a free port.
fn local_overrides(env: &mut BTreeMap<String, String>, port: u16) {
    env.insert("BIND".into(), "127.0.0.1".into());
    env.insert("PORT".into(), port.to_string());
}

/// Starts `program` with exactly `env` (the pod's, with local addresses), its log in `work`.
fn start(
    name: &'static str,
    program: &Path,
    env: &BTreeMap<String, String>,
    port: u16,
    work: &Path,
) -> anyhow::Result<Server> {
    let expression = duct::cmd(program, std::iter::empty::<&str>())
        .full_env(env)
        .dir(work);
    Server::start(name, expression, port, &work.join(format!("{name}.log")))
}

/// Every rendered probe path answers 2xx within [`READY_WITHIN`].
async fn check_probes(
    client: &reqwest::Client,
    service: &Server,
    paths: &BTreeSet<String>,
) -> anyhow::Result<()> {
    for path in paths {
        service
            .wait_ready(client, path, READY_WITHIN)
            .await
            .with_context(|| format!("the probe path {path}"))?;
    }
    Ok(())
}

/// Sign up, create, complete and delete a task, and one chat turn, all through the frontend.
async fn round_trip(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    use reqwest::Method;
    let call =
        async |method: Method, path: &str, body: Option<serde_json::Value>, token: Option<&str>| {
            http::send(
                client,
                method,
                &format!("{base}{path}"),
                token,
                body.as_ref(),
            )
            .await
        };
    let email = format!("lint-{}@example.com", std::process::id());
    let signup = json!({"email": email, "password": "lint-password-1234", "name": "Lint"});
    let reply = call(Method::POST, "/api/auth/sign-up", Some(signup), None).await?;
    let account = expect(&reply, 201, "sign-up")?.json()?;
    let token = account["token"]
        .as_str()
        .context("sign-up returned no token")?;
    let user = account["user"]["id"]
        .as_str()
        .context("sign-up returned no user id")?;

    let tasks = format!("/api/{user}/tasks");
    let created = json!({"title": "lint round trip"});
    let reply = call(Method::POST, &tasks, Some(created), Some(token)).await?;
    let task = expect(&reply, 201, "create a task")?.json()?;
    let id = task["id"].as_i64().context("the created task has no id")?;
    let reply = call(
        Method::PATCH,
        &format!("{tasks}/{id}/complete"),
        None,
        Some(token),
    )
    .await?;
    expect(&reply, 200, "complete the task")?;
    let reply = call(Method::DELETE, &format!("{tasks}/{id}"), None, Some(token)).await?;
    expect(&reply, 204, "delete the task")?;
    let chat = json!({"message": "add a task to buy milk"});
    let reply = call(
        Method::POST,
        &format!("/api/{user}/chat"),
        Some(chat),
        Some(token),
    )
    .await?;
    expect(&reply, 200, "a chat turn")?;
    Ok(())
}

fn expect<'a>(reply: &'a Reply, wanted: u16, what: &str) -> anyhow::Result<&'a Reply> {
    if reply.status != wanted {
        bail!(
            "{what} through the frontend answered {}, expected {wanted}: {}",
            reply.status,
            reply.body
        );
    }
    Ok(reply)
}

/// Series names in Prometheus text output.
fn metric_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_come_from_sample_lines_only() {
        let text = "# HELP a_total help\n# TYPE a_total counter\na_total{x=\"1\"} 3\nb 1\nc_bucket{le=\"0.1\"} 2\n";
        let names: Vec<String> = metric_names(text).into_iter().collect();
        assert_eq!(names, ["a_total", "b", "c_bucket"]);
    }
}
