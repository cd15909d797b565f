//! `up --target docker`: the same images on a Docker Engine, locked down as in the images
//! check, restarted by the engine when they fail (restart policy `unless-stopped`), with the
//! backend's SQLite database in a named volume that outlives the containers.

use std::{collections::HashMap, time::Duration};

use anyhow::{Context, bail};
use bollard::{
    Docker,
    models::{
        NetworkCreateRequest, PortBinding, RestartPolicy, RestartPolicyNameEnum,
        VolumeCreateRequest,
    },
    query_parameters::{
        CreateContainerOptionsBuilder, InspectNetworkOptions, RemoveContainerOptionsBuilder,
        RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
    },
};
use xshell::{Shell, cmd};

use crate::images::{self, SERVICES};

const NETWORK: &str = "todo-chatbot";
const VOLUME: &str = "todo-chatbot-data";
const BACKEND: &str = "todo-chatbot-backend";
const FRONTEND: &str = "todo-chatbot-frontend";
/// The label on everything `up --target docker` creates.
const UP_LABEL: &str = "dev.todo-chatbot.up";

/// True when a Docker Engine answers within a second or two.
pub fn engine_answers() -> bool {
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        return false;
    };
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(3), images::connect(None))
            .await
            .is_ok_and(|r| r.is_ok())
    })
}

pub fn up(sh: &Shell, ui_port: u16, api_port: u16, timeout: Duration) -> anyhow::Result<()> {
    // The tag is fixed before the build, so an edit made while it runs cannot make the
    // containers ask for a tag that was never built.
    let tag = images::current_tag(sh)?;
    println!("==> building the images (tag {tag})");
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    cmd!(sh, "{xtask} images --tag {tag}")
        .run()
        .context("building the images")?;
    let secret = super::secret::auth_secret()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let docker = images::connect(None).await?;
        ensure_network_and_volume(&docker).await?;
        // Replace the containers of a previous `up` (an upgrade); the volume keeps the data.
        for name in [FRONTEND, BACKEND] {
            remove_container(&docker, name).await?;
        }
        let [backend, frontend] = &SERVICES;
        let mut config = images::check::locked_down_config(
            &format!("{}:{tag}", backend.image),
            backend.port,
            NETWORK,
            vec![format!("BETTER_AUTH_SECRET={secret}")],
        );
        let host = config.host_config.get_or_insert_default();
        host.binds = Some(vec![format!("{VOLUME}:/data")]);
        publish(host, backend.port, api_port);
        run(&docker, BACKEND, config).await?;

        let mut config = images::check::locked_down_config(
            &format!("{}:{tag}", frontend.image),
            frontend.port,
            NETWORK,
            vec![format!("BACKEND_URL=http://{BACKEND}:{}", backend.port)],
        );
        publish(
            config.host_config.get_or_insert_default(),
            frontend.port,
            ui_port,
        );
        run(&docker, FRONTEND, config).await?;

        for (name, port) in [(BACKEND, api_port), (FRONTEND, ui_port)] {
            if let Err(err) = wait_ready(port, timeout).await {
                images::check::print_container_logs(&docker, name).await;
                return Err(err.context(format!("{name} did not become ready")));
            }
        }
        println!();
        println!("ready: UI  http://127.0.0.1:{ui_port}/");
        println!(
            "       API http://127.0.0.1:{api_port}/api/openapi.json (data in the volume {VOLUME})"
        );
        println!("       stop with `cargo xtask down --target docker`");
        anyhow::Ok(())
    })
}

pub fn down(purge: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let docker = images::connect(None).await?;
        for name in [FRONTEND, BACKEND] {
            remove_container(&docker, name).await?;
        }
        if docker.inspect_network(NETWORK, None::<InspectNetworkOptions>).await.is_ok() {
            docker.remove_network(NETWORK).await.with_context(|| format!("removing the network {NETWORK}"))?;
        }
        if purge {
            let options = RemoveVolumeOptionsBuilder::default().force(true).build();
            match docker.remove_volume(VOLUME, Some(options)).await {
                Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
                Err(err) => return Err(err).with_context(|| format!("removing the volume {VOLUME}")),
            }
            println!("removed the containers, the network and the data volume");
        } else {
            println!("removed the containers and the network; the data volume {VOLUME} is kept (--purge deletes it)");
        }
        anyhow::Ok(())
    })
}

async fn ensure_network_and_volume(docker: &Docker) -> anyhow::Result<()> {
    let labels = HashMap::from([(UP_LABEL.to_owned(), "true".to_owned())]);
    if docker
        .inspect_network(NETWORK, None::<InspectNetworkOptions>)
        .await
        .is_err()
    {
        let request = NetworkCreateRequest {
            name: NETWORK.to_owned(),
            driver: Some("bridge".to_owned()),
            labels: Some(labels.clone()),
            ..Default::default()
        };
        docker
            .create_network(request)
            .await
            .with_context(|| format!("creating the network {NETWORK}"))?;
    }
    if docker.inspect_volume(VOLUME).await.is_err() {
        let request = VolumeCreateRequest {
            name: Some(VOLUME.to_owned()),
            labels: Some(labels),
            ..Default::default()
        };
        docker
            .create_volume(request)
            .await
            .with_context(|| format!("creating the volume {VOLUME}"))?;
    }
    Ok(())
}

/// Publishes the container's port on 127.0.0.1:`host_port` and lets the engine restart it.
fn publish(host: &mut bollard::models::HostConfig, container_port: u16, host_port: u16) {
    host.port_bindings = Some(HashMap::from([(
        format!("{container_port}/tcp"),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".to_owned()),
            host_port: Some(host_port.to_string()),
        }]),
    )]));
    host.restart_policy = Some(RestartPolicy {
        name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
        maximum_retry_count: None,
    });
}

async fn run(
    docker: &Docker,
    name: &str,
    mut config: bollard::models::ContainerCreateBody,
) -> anyhow::Result<()> {
    config
        .labels
        .get_or_insert_default()
        .insert(UP_LABEL.to_owned(), "true".to_owned());
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    docker
        .create_container(Some(options), config)
        .await
        .with_context(|| format!("creating the container {name}"))?;
    docker.start_container(name, None).await.with_context(|| {
        format!("starting the container {name} (is the host port already taken? pick others with --ui-port/--api-port)")
    })
}

/// Stops (SIGTERM, then the engine's grace) and removes a container if it exists.
async fn remove_container(docker: &Docker, name: &str) -> anyhow::Result<()> {
    if docker.inspect_container(name, None).await.is_err() {
        return Ok(());
    }
    let _ = docker
        .stop_container(
            name,
            Some(StopContainerOptionsBuilder::default().t(30).build()),
        )
        .await;
    let options = RemoveContainerOptionsBuilder::default().force(true).build();
    docker
        .remove_container(name, Some(options))
        .await
        .with_context(|| format!("removing the container {name}"))
}

async fn wait_ready(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(response) = client
            .get(&url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            && response.status().is_success()
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{url} did not answer 200 within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `cargo xtask status` on the docker target: each container's state, health and restarts.
pub fn status() -> anyhow::Result<()> {
    crate::runtime::block_on(async {
        let docker = images::connect(None).await?;
        println!(
            "{:<24} {:<10} {:<10} {:>8}  image",
            "container", "state", "health", "restarts"
        );
        for name in [BACKEND, FRONTEND] {
            let Ok(container) = docker.inspect_container(name, None).await else {
                println!("{name:<24} absent (`cargo xtask up --target docker` starts it)");
                continue;
            };
            let state = container.state.unwrap_or_default();
            let health = state
                .health
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .unwrap_or_default();
            println!(
                "{name:<24} {:<10} {health:<10} {:>8}  {}",
                state.status.map(|s| s.to_string()).unwrap_or_default(),
                container.restart_count.unwrap_or_default(),
                container.config.and_then(|c| c.image).unwrap_or_default()
            );
        }
        println!("UI: http://127.0.0.1:3000/ unless `up` was given --ui-port");
        anyhow::Ok(())
    })?
}

/// `cargo xtask logs` on the docker target: the containers' output, prefixed with their names;
/// `follow` streams until Ctrl-C (a restarted container's output continues in the same stream).
pub fn logs(service: Option<&str>, follow: bool, tail: u64) -> anyhow::Result<()> {
    use futures::StreamExt;
    crate::runtime::block_on(async {
        let docker = images::connect(None).await?;
        let names: Vec<&str> = [BACKEND, FRONTEND]
            .into_iter()
            .filter(|name| service.is_none_or(|s| name.ends_with(s)))
            .collect();
        let mut streams = futures::stream::SelectAll::new();
        for name in names {
            let options = bollard::query_parameters::LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .follow(follow)
                .tail(&tail.to_string())
                .build();
            streams.push(
                docker
                    .logs(name, Some(options))
                    .map(move |line| (name, line))
                    .boxed(),
            );
        }
        let stop = tokio::signal::ctrl_c();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return anyhow::Ok(()),
                next = streams.next() => match next {
                    None => return anyhow::Ok(()),
                    Some((name, Ok(output))) => {
                        for line in output.to_string().lines() {
                            println!("[{name}] {line}");
                        }
                    }
                    Some((name, Err(err))) => {
                        return Err(err).with_context(|| format!("reading the logs of {name} (is it up?)"));
                    }
                },
            }
        }
    })?
}
