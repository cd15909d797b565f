//! `cargo xtask images --check`: proof that each image runs on its own, locked down: read-only
//! root filesystem, no capabilities, no new privileges, published on 127.0.0.1 only; the backend
//! with SQLite in a volume (its default database, `/data/todo.db`), the frontend wired to it by
//! name on a private network, and the backend again with its settings in mounted files as the
//! chart's external mode gives them (see `external`). Everything the check creates is removed
//! afterwards, also when a step fails.

mod external;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use bollard::{
    Docker,
    errors::Error as EngineError,
    models::{ContainerCreateBody, NetworkCreateRequest, VolumeCreateRequest},
    query_parameters::{
        CreateContainerOptionsBuilder, KillContainerOptionsBuilder, RemoveContainerOptionsBuilder,
        RemoveVolumeOptionsBuilder, TopOptionsBuilder, WaitContainerOptionsBuilder,
    },
};
use futures::StreamExt;

use super::{Built, fastpath::APP_UID_GID};
use crate::catalog::Service;
use crate::engine::{locked_down_config, print_container_logs, published_port};
use crate::http;
use crate::tokens::{mint_token, random_secret, random_text};

/// How long a container may take to answer `/readyz` before the check gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one of the check's calls to a container may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The client of every call the check makes, each bounded by [`REQUEST_TIMEOUT`].
fn check_client() -> anyhow::Result<reqwest::Client> {
    http::client_with_timeout(REQUEST_TIMEOUT)
}
/// How long a container may take to exit after SIGTERM (Docker's `docker stop` default).
const STOP_GRACE: Duration = Duration::from_secs(10);
/// The label on everything the check creates, so leftovers can be found by hand.
const CHECK_LABEL: &str = "dev.todo-chatbot.check";

/// How long the check's tokens are valid: the check takes about a minute.
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// Runs the check for the backend and frontend images in `built`.
pub async fn run(docker: &Docker, built: &[Built]) -> anyhow::Result<()> {
    let image = |binary: &str| {
        built
            .iter()
            .find(|b| b.service.binary == binary)
            .with_context(|| format!("no {binary} image was built"))
    };
    let (backend, frontend) = (image("backend")?, image("frontend")?);
    let run_id: String = random_text(8).to_lowercase();
    println!("==> checking the images (run {run_id})");
    let mut created = Created::default();
    let result = tokio::select! {
        result = exercise(docker, backend, frontend, &run_id, &mut created) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if result.is_err() {
        created.print_logs(docker).await;
    }
    created.remove_all(docker).await;
    result
}

async fn exercise(
    docker: &Docker,
    backend: &Built,
    frontend: &Built,
    run_id: &str,
    created: &mut Created,
) -> anyhow::Result<()> {
    let client = check_client()?;
    let secret = random_secret();
    let user_id = format!("image-check-{run_id}");
    let token = mint_token(&secret, &user_id, TOKEN_LIFETIME)?;
    let title = format!("image check {run_id}");

    let network = format!("todo-check-{run_id}");
    docker
        .create_network(NetworkCreateRequest {
            name: network.clone(),
            driver: Some("bridge".to_owned()),
            labels: Some(HashMap::from([(CHECK_LABEL.to_owned(), run_id.to_owned())])),
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating the network {network}"))?;
    created.networks.push(network.clone());
    let volume = format!("todo-check-{run_id}-data");
    docker
        .create_volume(VolumeCreateRequest {
            name: Some(volume.clone()),
            labels: Some(HashMap::from([(CHECK_LABEL.to_owned(), run_id.to_owned())])),
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating the volume {volume}"))?;
    created.volumes.push(volume.clone());

    // The backend: SQLite in the volume, its API exercised with a token signed by the secret.
    let backend_name = format!("todo-check-{run_id}-backend");
    let env = vec![
        format!("BETTER_AUTH_SECRET={secret}"),
        "LOG_FORMAT=json".to_owned(),
    ];
    let mut locked = locked_down(backend, &network, run_id, env);
    if let Some(host) = locked.host_config.as_mut() {
        host.binds = Some(vec![format!("{volume}:/data")]);
    }
    let backend_port = start(docker, backend.service, &backend_name, locked, created).await?;
    let base = format!("http://127.0.0.1:{backend_port}");
    let tasks = format!("/api/{user_id}/tasks");
    let unauthenticated = http::get(&client, &format!("{base}{tasks}"), None).await?;
    ensure!(
        unauthenticated.status == 401,
        "backend: listing tasks without a token gave {} instead of 401",
        unauthenticated.status
    );
    let body = serde_json::json!({ "title": title, "description": "created by cargo xtask images --check" });
    let create = http::post_json(&client, &format!("{base}{tasks}"), Some(&token), &body).await?;
    ensure!(
        create.status == 201,
        "backend: creating a task gave {} instead of 201: {}",
        create.status,
        create.body
    );
    let list = http::get(&client, &format!("{base}{tasks}"), Some(&token)).await?;
    ensure!(
        list.status == 200 && list.body.contains(&title),
        "backend: the task list ({}) lacks the new task: {}",
        list.status,
        list.body
    );
    println!(
        "    backend: created a task in SQLite on the volume and listed it with a minted token"
    );
    confirm_non_root(docker, &backend_name).await?;

    // The frontend: the UI, and the API through its proxy to the backend found by name.
    let frontend_name = format!("todo-check-{run_id}-frontend");
    let env = vec![
        format!("BACKEND_URL=http://{backend_name}:{}", backend.service.port),
        "LOG_FORMAT=json".to_owned(),
    ];
    let locked = locked_down(frontend, &network, run_id, env);
    let frontend_port = start(docker, frontend.service, &frontend_name, locked, created).await?;
    let base = format!("http://127.0.0.1:{frontend_port}");
    let page = http::get(&client, &format!("{base}/"), None).await?;
    ensure!(
        page.status == 200 && page.content_type.starts_with("text/html"),
        "frontend: `/` gave {} ({}) instead of an HTML page",
        page.status,
        page.content_type
    );
    let proxied = http::get(&client, &format!("{base}{tasks}"), Some(&token)).await?;
    ensure!(
        proxied.status == 200 && proxied.body.contains(&title),
        "frontend: the task list through the proxy ({}) lacks the task: {}",
        proxied.status,
        proxied.body
    );
    println!(
        "    frontend: served the UI and proxied the task list to the backend container by name"
    );
    confirm_non_root(docker, &frontend_name).await?;

    stop(docker, &frontend_name).await?;
    stop(docker, &backend_name).await?;
    ensure!(
        external::file_exists(docker, &backend_name, "/data/todo.db").await?,
        "backend: no DATABASE_URL given, but its database is not /data/todo.db on the volume"
    );
    println!("    backend: with no DATABASE_URL its database is /data/todo.db on the volume");

    external::check(docker, backend, &network, run_id, created).await?;
    println!("==> images check passed");
    Ok(())
}

/// A container config with the lock-down every run of these images should have, labelled as
/// this check's.
fn locked_down(
    image: &Built,
    network: &str,
    run_id: &str,
    env: Vec<String>,
) -> ContainerCreateBody {
    let mut config = locked_down_config(&image.reference, image.service.port, network, env);
    config.labels = Some(HashMap::from([(CHECK_LABEL.to_owned(), run_id.to_owned())]));
    config
}

/// Creates and starts a container, waits until `/readyz` answers 200, and returns its host port.
async fn start(
    docker: &Docker,
    service: &Service,
    name: &str,
    config: ContainerCreateBody,
    created: &mut Created,
) -> anyhow::Result<u16> {
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    docker
        .create_container(Some(options), config)
        .await
        .with_context(|| format!("creating the container {name}"))?;
    created.containers.push(name.to_owned());
    let started = Instant::now();
    docker
        .start_container(name, None)
        .await
        .with_context(|| format!("starting the container {name}"))?;
    let port = match published_port(docker, name, service.port).await {
        Ok(port) => port,
        // A container that exits at once loses its port binding: say that it exited.
        Err(err) => {
            exited_early(docker, name).await?;
            return Err(err);
        }
    };
    let url = format!("http://127.0.0.1:{port}/readyz");
    let every = Duration::from_millis(20);
    http::wait_until_ok(&check_client()?, &url, READY_TIMEOUT, every, async || {
        exited_early(docker, name).await
    })
    .await
    .with_context(|| format!("{name} was not ready"))?;
    let seconds = started.elapsed().as_secs_f64();
    let verdict = if seconds <= 1.0 { "within" } else { "OVER" };
    println!(
        "    {}: ready {seconds:.2} s after start ({verdict} the 1 s budget), on 127.0.0.1:{port}",
        service.binary
    );
    Ok(port)
}

/// Fails, with its exit code, when the container is no longer running.
async fn exited_early(docker: &Docker, name: &str) -> anyhow::Result<()> {
    let state = docker
        .inspect_container(name, None)
        .await
        .with_context(|| format!("inspecting the container {name}"))?
        .state
        .unwrap_or_default();
    if state.running != Some(true) {
        bail!(
            "{name} exited with code {} before it was ready",
            state.exit_code.unwrap_or(-1)
        );
    }
    Ok(())
}

/// Fails unless the container is configured as, and its processes run as, the app user.
async fn confirm_non_root(docker: &Docker, name: &str) -> anyhow::Result<()> {
    let inspected = docker
        .inspect_container(name, None)
        .await
        .with_context(|| format!("inspecting {name}"))?;
    let user = inspected.config.and_then(|c| c.user).unwrap_or_default();
    ensure!(
        user == APP_UID_GID,
        "{name} is configured to run as `{user}`, not {APP_UID_GID}"
    );
    let top = docker
        .top_processes(
            name,
            Some(
                TopOptionsBuilder::default()
                    .ps_args("-o uid,gid,pid,comm")
                    .build(),
            ),
        )
        .await
        .with_context(|| format!("listing the processes of {name}"))?;
    let processes = top.processes.unwrap_or_default();
    ensure!(!processes.is_empty(), "{name} has no processes");
    for process in &processes {
        let (uid, gid) = (
            process.first().map(String::as_str),
            process.get(1).map(String::as_str),
        );
        ensure!(
            uid == Some("10001") && gid == Some("10001"),
            "{name} runs a process as uid/gid {uid:?}/{gid:?}: {process:?}"
        );
    }
    println!(
        "    {name}: runs as {APP_UID_GID} ({} process(es))",
        processes.len()
    );
    Ok(())
}

/// Sends SIGTERM and requires exit code 0 within the grace period.
async fn stop(docker: &Docker, name: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let options = KillContainerOptionsBuilder::default()
        .signal("SIGTERM")
        .build();
    docker
        .kill_container(name, Some(options))
        .await
        .with_context(|| format!("sending SIGTERM to {name}"))?;
    let wait_options = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    let mut wait = docker.wait_container(name, Some(wait_options));
    let exit_code = match tokio::time::timeout(STOP_GRACE, wait.next()).await {
        Err(_) => bail!(
            "{name} was still running {} s after SIGTERM",
            STOP_GRACE.as_secs()
        ),
        Ok(Some(Ok(response))) => response.status_code,
        Ok(Some(Err(EngineError::DockerContainerWaitError { code, .. }))) => code,
        Ok(Some(Err(err))) => {
            return Err(err).with_context(|| format!("waiting for {name} to exit"));
        }
        Ok(None) => bail!("the engine ended the wait for {name} without an exit code"),
    };
    ensure!(
        exit_code == 0,
        "{name} exited with code {exit_code} after SIGTERM instead of 0"
    );
    println!(
        "    {name}: exited 0 {:.2} s after SIGTERM",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the check created, removed at the end whatever happened.
#[derive(Debug, Default)]
struct Created {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Created {
    async fn print_logs(&self, docker: &Docker) {
        for name in &self.containers {
            print_container_logs(docker, name).await;
        }
    }

    /// Removes everything, reporting (not hiding behind) each failure.
    async fn remove_all(self, docker: &Docker) {
        let bound = Duration::from_secs(30);
        for name in self.containers.iter().rev() {
            let options = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(true)
                .build();
            report_cleanup(
                "container",
                name,
                tokio::time::timeout(bound, docker.remove_container(name, Some(options))).await,
            );
        }
        for name in &self.networks {
            report_cleanup(
                "network",
                name,
                tokio::time::timeout(bound, docker.remove_network(name)).await,
            );
        }
        for name in &self.volumes {
            let options = RemoveVolumeOptionsBuilder::default().force(true).build();
            report_cleanup(
                "volume",
                name,
                tokio::time::timeout(bound, docker.remove_volume(name, Some(options))).await,
            );
        }
    }
}

fn report_cleanup(
    kind: &str,
    name: &str,
    outcome: Result<Result<(), EngineError>, tokio::time::error::Elapsed>,
) {
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!(
            "warning: could not remove the {kind} {name}: {err}; remove it with `docker {kind} rm {name}`"
        ),
        Err(_) => eprintln!(
            "warning: removing the {kind} {name} timed out; remove it with `docker {kind} rm {name}`"
        ),
    }
}
