//! `up --target docker`: the same images on a Docker Engine, locked down as in the images
//! check, restarted by the engine when they fail (restart policy `unless-stopped`), with the
//! backend's SQLite database in a named volume that outlives the containers, or (`--postgres`)
//! in a PostgreSQL server this machine runs for the stack. With `--monitoring`, a Prometheus
//! and an Alertmanager join them (see [`crate::monitoring`]).

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

use crate::{
    catalog::SERVICES,
    images,
    monitoring::{self, ALERTMANAGER, PROMETHEUS},
};

pub const NETWORK: &str = "todo-chatbot";
const VOLUME: &str = "todo-chatbot-data";
pub const BACKEND: &str = "todo-chatbot-backend";
pub const FRONTEND: &str = "todo-chatbot-frontend";
/// The name the frontend reaches the backend by: a network alias, which several containers may
/// share while one replaces another (`test-e2e --rolling`).
pub const BACKEND_ALIAS: &str = "backend";
/// Every container `up --target docker` may run, in start order (the last two with
/// `--monitoring`): what `status`, `logs` and the port check look at.
const CONTAINERS: [&str; 4] = [BACKEND, FRONTEND, PROMETHEUS, ALERTMANAGER];
/// The label on everything `up --target docker` creates.
pub const UP_LABEL: &str = "dev.todo-chatbot.up";

/// The services' drain on SIGTERM (`SHUTDOWN_DELAY_SECONDS`), within the engine's 30 s stop.
const DRAIN_SECONDS: u64 = 2;

/// How `up --target docker` runs the stack.
pub struct Options {
    pub ui_port: u16,
    pub api_port: u16,
    /// Data in a PostgreSQL server on this machine instead of SQLite in the volume.
    pub postgres: bool,
    pub build_profile: images::fastpath::BuildProfile,
    /// Prometheus and Alertmanager beside the stack, on these host ports.
    pub monitoring: Option<MonitoringPorts>,
}

/// The host ports of `up --monitoring`.
#[derive(Debug, Clone, Copy)]
pub struct MonitoringPorts {
    pub prometheus: u16,
    pub alertmanager: u16,
}

/// What `up --target docker` started besides the containers: the PostgreSQL server
/// (`--postgres`), which `down` stops, and where Prometheus answers (`--monitoring`).
pub struct Started {
    pub database: Option<crate::postgres::Server>,
    pub monitoring: Option<monitoring::Urls>,
}

/// True when a Docker Engine answers within a second or two.
pub fn engine_answers() -> bool {
    crate::runtime::block_on(async {
        tokio::time::timeout(Duration::from_secs(3), crate::engine::connect(None))
            .await
            .is_ok_and(|r| r.is_ok())
    })
    .unwrap_or(false)
}

/// Builds the images and (re)creates the containers that changed.
pub fn up(sh: &Shell, options: Options, timeout: Duration) -> anyhow::Result<Started> {
    let Options {
        ui_port,
        api_port,
        postgres,
        build_profile,
        monitoring: monitoring_ports,
    } = options;
    // The rules come from the chart through the Helm engine: a missing engine fails here,
    // before anything is built or replaced.
    let chart_rules = match monitoring_ports {
        Some(_) => Some(monitoring::rules::from_chart(sh)?),
        None => None,
    };
    // The tag is fixed before the build, so an edit made while it runs cannot make the
    // containers ask for a tag that was never built.
    let tag = images::current_tag(sh)?;
    let profile = build_profile.name();
    println!("==> building the images (tag {tag}, profile {profile})");
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    cmd!(sh, "{xtask} images --tag {tag} --build-profile {profile}")
        .run()
        .context("building the images")?;
    let secret = super::secret::auth_secret()?;
    crate::runtime::block_on(async {
        let docker = crate::engine::connect(None).await?;
        ensure_network_and_volume(&docker).await?;
        // The server of a previous `up --postgres` keeps the data, as the volume does.
        let previous = super::state::Stack::load()?.and_then(|stack| stack.database);
        // A server this run starts is stopped again if the run fails: nothing would record it.
        let mut started_now = false;
        let database = match (postgres, previous) {
            (true, Some(server)) => {
                if !server.is_running() {
                    server.start()?;
                    started_now = true;
                }
                Some(server)
            }
            (true, None) => {
                started_now = true;
                Some(start_postgres(&docker).await?)
            }
            (false, Some(server)) => {
                if server.is_running() {
                    server.stop()?;
                }
                println!(
                    "==> stopped the PostgreSQL server of the previous `up --postgres`: the stack \
                     keeps its data in SQLite now"
                );
                None
            }
            (false, None) => None,
        };
        let containers = async {
            let [backend, frontend] = &SERVICES;
            // A short drain on SIGTERM (answers carry `Connection: close` meanwhile), so a backend
            // replaced next to a running one (`test-e2e --rolling`) loses no kept-alive request.
            let mut env = vec![
                format!("BETTER_AUTH_SECRET={secret}"),
                format!("SHUTDOWN_DELAY_SECONDS={DRAIN_SECONDS}"),
            ];
            if let Some(server) = &database {
                env.push(format!("DATABASE_URL={}", server.url("todo", "postgres")));
            }
            let mut backend_config = crate::engine::locked_down_config(
                &format!("{}:{tag}", backend.image),
                backend.port,
                NETWORK,
                env,
            );
            let host = backend_config.host_config.get_or_insert_default();
            host.binds = Some(vec![format!("{VOLUME}:/data")]);
            publish(host, backend.port, api_port);
            alias(&mut backend_config, BACKEND_ALIAS);
            let mut frontend_env = vec![
                format!("BACKEND_URL=http://{BACKEND_ALIAS}:{}", backend.port),
                format!("SHUTDOWN_DELAY_SECONDS={DRAIN_SECONDS}"),
            ];
            if monitoring_ports.is_some() {
                frontend_env.push(format!(
                    "PROMETHEUS_URL=http://{PROMETHEUS}:{}",
                    monitoring::PROMETHEUS_PORT
                ));
            }
            let mut frontend_config = crate::engine::locked_down_config(
                &format!("{}:{tag}", frontend.image),
                frontend.port,
                NETWORK,
                frontend_env,
            );
            publish(
                frontend_config.host_config.get_or_insert_default(),
                frontend.port,
                ui_port,
            );
            let mut wanted = vec![
                Replacement {
                    name: BACKEND,
                    config: backend_config,
                    port: api_port,
                    flag: "--api-port",
                    ready_path: "/readyz",
                },
                Replacement {
                    name: FRONTEND,
                    config: frontend_config,
                    port: ui_port,
                    flag: "--ui-port",
                    ready_path: "/readyz",
                },
            ];
            match (monitoring_ports, &chart_rules) {
                (Some(ports), Some(rules)) => {
                    wanted.extend(monitoring_containers(sh, &docker, rules, ports).await?);
                }
                _ => {
                    for name in [PROMETHEUS, ALERTMANAGER] {
                        if docker.inspect_container(name, None).await.is_ok() {
                            remove_container(&docker, name).await?;
                            println!("==> removed {name}: this `up` has no --monitoring");
                        }
                    }
                }
            }
            let mut unchanged = Vec::new();
            let mut replaced = Vec::new();
            for mut container in wanted {
                let (config, same) =
                    label_with_digest(&docker, container.name, container.config).await?;
                container.config = config;
                if same {
                    unchanged.push(container);
                } else {
                    replaced.push(container);
                }
            }
            for container in &unchanged {
                println!(
                    "==> {}: unchanged (the same image and configuration): left running",
                    container.name
                );
                wait_ready_at(container.port, container.ready_path, timeout)
                    .await
                    .with_context(|| {
                        format!("{} runs unchanged but is not ready", container.name)
                    })?;
            }
            if replaced.is_empty() {
                return anyhow::Ok(());
            }
            ensure_ports_free(&docker, replaced.iter().map(|c| (c.port, c.flag))).await?;
            // Replace only what changed (an upgrade); the volume keeps the data.
            let names: Vec<&str> = replaced.iter().map(|c| c.name).collect();
            println!("==> replacing {}", names.join(" and "));
            for name in names.iter().rev() {
                remove_container(&docker, name).await?;
            }
            if let Err(err) = start_and_wait(&docker, replaced, timeout).await {
                for name in names.iter().rev() {
                    remove_container(&docker, name).await?;
                }
                return Err(err.context(format!(
                    "{} removed again, and any PostgreSQL server this run started stopped \
                     (the data volume and the PostgreSQL files are kept); fix the cause and run \
                     `cargo xtask up` again",
                    names.join(" and ")
                )));
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(err) = containers {
            if started_now && let Some(server) = &database {
                let _ = server.stop();
            }
            return Err(err);
        }
        println!();
        println!("ready: UI  http://127.0.0.1:{ui_port}/");
        println!("       API http://127.0.0.1:{api_port}/api/openapi.json");
        match &database {
            Some(server) => println!(
                "       data in PostgreSQL on {}:{} (its files: {})",
                server.host,
                server.port,
                server.data.display()
            ),
            None => println!("       data in the volume {VOLUME}"),
        }
        let monitoring = monitoring_ports.map(|ports| monitoring::Urls {
            prometheus: format!("http://127.0.0.1:{}", ports.prometheus),
            alertmanager: Some(format!("http://127.0.0.1:{}", ports.alertmanager)),
        });
        if let Some(urls) = &monitoring {
            urls.print(&format!("http://127.0.0.1:{ui_port}"));
        }
        println!("       stop with `cargo xtask down --target docker`");
        anyhow::Ok(Started {
            database,
            monitoring,
        })
    })?
}

/// Alertmanager and Prometheus, locked down as the services are, their images built from this
/// machine's binaries and the chart's rules.
async fn monitoring_containers(
    sh: &Shell,
    docker: &Docker,
    rules: &monitoring::rules::ChartRules,
    ports: MonitoringPorts,
) -> anyhow::Result<Vec<Replacement>> {
    use monitoring::{
        ALERTMANAGER_PORT, PROMETHEUS_PORT,
        config::{self, Target},
        image,
    };
    let [backend, frontend] = &SERVICES;
    let prometheus_config = config::prometheus(
        rules,
        &Target {
            address: format!("{BACKEND_ALIAS}:{}", backend.port),
            pod: BACKEND,
            container: backend.binary,
        },
        &Target {
            address: format!("{FRONTEND}:{}", frontend.port),
            pod: FRONTEND,
            container: frontend.binary,
        },
        true,
    );
    let prometheus_image = image::ensure(
        sh,
        docker,
        image::prometheus_spec(vec![
            (config::PROMETHEUS_CONFIG, prometheus_config),
            (config::RULES_FILE, config::rules(rules)),
        ])?,
    )
    .await?;
    let alertmanager_image = image::ensure(
        sh,
        docker,
        image::alertmanager_spec(config::alertmanager())?,
    )
    .await?;
    let mut prometheus =
        crate::engine::locked_down_config(&prometheus_image, PROMETHEUS_PORT, NETWORK, Vec::new());
    prometheus.cmd = Some(vec![
        format!("--config.file={}", config::PROMETHEUS_CONFIG),
        "--storage.tsdb.path=/prometheus".to_owned(),
        "--storage.tsdb.retention.time=1d".to_owned(),
        format!("--web.listen-address=:{PROMETHEUS_PORT}"),
        format!("--web.external-url=http://127.0.0.1:{}/", ports.prometheus),
        "--web.route-prefix=/".to_owned(),
    ]);
    scratch_space(&mut prometheus, "/prometheus", "512m");
    publish(
        prometheus.host_config.get_or_insert_default(),
        PROMETHEUS_PORT,
        ports.prometheus,
    );
    let mut alertmanager = crate::engine::locked_down_config(
        &alertmanager_image,
        ALERTMANAGER_PORT,
        NETWORK,
        Vec::new(),
    );
    alertmanager.cmd = Some(vec![
        format!("--config.file={}", config::ALERTMANAGER_CONFIG),
        "--storage.path=/alertmanager".to_owned(),
        format!("--web.listen-address=:{ALERTMANAGER_PORT}"),
        format!(
            "--web.external-url=http://127.0.0.1:{}/",
            ports.alertmanager
        ),
        "--web.route-prefix=/".to_owned(),
        // One instance: no gossip port, no peers.
        "--cluster.listen-address=".to_owned(),
    ]);
    scratch_space(&mut alertmanager, "/alertmanager", "64m");
    publish(
        alertmanager.host_config.get_or_insert_default(),
        ALERTMANAGER_PORT,
        ports.alertmanager,
    );
    Ok(vec![
        Replacement {
            name: ALERTMANAGER,
            config: alertmanager,
            port: ports.alertmanager,
            flag: "--alertmanager-port",
            ready_path: "/-/ready",
        },
        Replacement {
            name: PROMETHEUS,
            config: prometheus,
            port: ports.prometheus,
            flag: "--prometheus-port",
            ready_path: "/-/ready",
        },
    ])
}

/// A writable folder in memory for a server's data (the root filesystem stays read-only), and
/// memory for it: the tmpfs counts against the container's limit. It is owned by the image's
/// user (a `mode=` is lost when the engine restarts the container; the owner is not).
fn scratch_space(config: &mut bollard::models::ContainerCreateBody, path: &str, size: &str) {
    let host = config.host_config.get_or_insert_default();
    let id = monitoring::image::USER_ID;
    host.tmpfs.get_or_insert_default().insert(
        path.to_owned(),
        format!("rw,noexec,nosuid,size={size},uid={id},gid={id}"),
    );
    host.memory = Some(768 * 1024 * 1024);
}

/// The label with the digest of what a container was created from (its image's id and the
/// rest of its configuration), so an `up` with nothing changed leaves it running.
pub const CONFIG_DIGEST_LABEL: &str = "dev.todo-chatbot.config-digest";

/// Adds the digest label to `config`; also says whether the container `name` runs with the
/// same digest now.
async fn label_with_digest(
    docker: &Docker,
    name: &str,
    mut config: bollard::models::ContainerCreateBody,
) -> anyhow::Result<(bollard::models::ContainerCreateBody, bool)> {
    use sha2::{Digest, Sha256};
    let reference = config.image.clone().unwrap_or_default();
    let image_id = docker
        .inspect_image(&reference)
        .await
        .with_context(|| format!("inspecting {reference}"))?
        .id
        .unwrap_or_default();
    // The tag follows the commit even when the bytes do not: the image's id stands for it.
    let mut hashed = config.clone();
    hashed.image = Some(image_id);
    let digest = format!(
        "{:x}",
        Sha256::digest(
            serde_json::to_vec(&hashed).context("encoding the container configuration")?
        )
    );
    let running = match docker.inspect_container(name, None).await {
        Ok(container) => {
            container.state.and_then(|s| s.running).unwrap_or(false)
                && container
                    .config
                    .and_then(|c| c.labels)
                    .and_then(|l| l.get(CONFIG_DIGEST_LABEL).cloned())
                    .as_deref()
                    == Some(digest.as_str())
        }
        Err(_) => false,
    };
    config
        .labels
        .get_or_insert_default()
        .insert(CONFIG_DIGEST_LABEL.to_owned(), digest);
    Ok((config, running))
}

/// A container `up` wants; when its image or configuration changed, the one of that name
/// before it (if any) is removed first.
struct Replacement {
    name: &'static str,
    config: bollard::models::ContainerCreateBody,
    /// Its host port, where it answers `ready_path`.
    port: u16,
    /// The flag that picks that port.
    flag: &'static str,
    /// The path that answers 200 there once it is ready.
    ready_path: &'static str,
}

/// Fails, before anything is replaced, when a host port is held by something other than the
/// stack's own containers (which give theirs up when they are replaced).
async fn ensure_ports_free(
    docker: &Docker,
    ports: impl Iterator<Item = (u16, &str)>,
) -> anyhow::Result<()> {
    let mut own = Vec::new();
    for name in CONTAINERS {
        if let Ok(container) = docker.inspect_container(name, None).await {
            let bindings = container
                .host_config
                .and_then(|h| h.port_bindings)
                .unwrap_or_default();
            own.extend(
                bindings
                    .into_values()
                    .flatten()
                    .flatten()
                    .filter_map(|b| b.host_port?.parse::<u16>().ok()),
            );
        }
    }
    for (port, flag) in ports {
        if !own.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            bail!(
                "port {port} on 127.0.0.1 is taken by another program: pick a free one with \
                 {flag} (the running stack, if any, is left as it is)"
            );
        }
    }
    Ok(())
}

/// Creates and starts the containers in order, then waits until each answers `/readyz` on its
/// host port; a container that does not become ready has its last log lines printed.
async fn start_and_wait(
    docker: &Docker,
    containers: Vec<Replacement>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let waits: Vec<(&str, u16, &str)> = containers
        .iter()
        .map(|c| (c.name, c.port, c.ready_path))
        .collect();
    for container in containers {
        run(docker, container.name, container.config).await?;
    }
    for (name, port, path) in waits {
        if let Err(err) = wait_ready_at(port, path, timeout).await {
            crate::engine::print_container_logs(docker, name).await;
            return Err(err.context(format!("{name} did not become ready")));
        }
    }
    Ok(())
}

/// A PostgreSQL server for the stack on this machine, listening on the network's gateway
/// address (where the containers reach the host) and trusting the network's subnet only.
async fn start_postgres(docker: &Docker) -> anyhow::Result<crate::postgres::Server> {
    let network = docker
        .inspect_network(NETWORK, None::<InspectNetworkOptions>)
        .await
        .with_context(|| format!("inspecting the network {NETWORK}"))?;
    let config = network
        .ipam
        .and_then(|ipam| ipam.config)
        .and_then(|configs| configs.into_iter().find(|c| c.gateway.is_some()))
        .with_context(|| format!("the network {NETWORK} has no gateway address"))?;
    let (Some(gateway), Some(subnet)) = (config.gateway, config.subnet) else {
        bail!("the network {NETWORK} has no gateway address or subnet");
    };
    let work = super::state::folder();
    let server = tokio::task::spawn_blocking(move || {
        let access = crate::postgres::Access {
            listen: vec![gateway],
            trusted_networks: vec![subnet],
        };
        // The files of an earlier `up --postgres` that `down` kept.
        if let Some(server) = crate::postgres::Throwaway::reopen(&work, &access)? {
            return anyhow::Ok(server);
        }
        let database = crate::postgres::Throwaway::start(&work, &access)?;
        database.create_database("todo")?;
        anyhow::Ok(database.keep())
    })
    .await
    .context("starting PostgreSQL")??;
    println!(
        "==> PostgreSQL for the stack on {}:{}",
        server.host, server.port
    );
    Ok(server)
}

/// Gives the container a name on the stack's network that others may share.
fn alias(config: &mut bollard::models::ContainerCreateBody, name: &str) {
    if let Some(endpoints) = config
        .networking_config
        .as_mut()
        .and_then(|n| n.endpoints_config.as_mut())
    {
        for endpoint in endpoints.values_mut() {
            endpoint.aliases = Some(vec![name.to_owned()]);
        }
    }
}

pub fn down(purge: bool, database: Option<&crate::postgres::Server>) -> anyhow::Result<()> {
    crate::runtime::block_on(async {
        let docker = crate::engine::connect(None).await?;
        for name in [FRONTEND, BACKEND] {
            remove_container(&docker, name).await?;
        }
        // Any other container of the stack (a rollout's `-next` that an error left behind).
        let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&HashMap::from([("label", vec![UP_LABEL])]))
            .build();
        let others = docker
            .list_containers(Some(options))
            .await
            .context("listing the stack's containers")?;
        for name in others.iter().filter_map(|c| c.names.as_ref()?.first()) {
            remove_container(&docker, name.trim_start_matches('/')).await?;
        }
        if let Some(server) = database
            && server.is_running()
        {
            server.stop()?;
            println!(
                "stopped the stack's PostgreSQL server (its files stay in {} for the next \
                 `up --postgres`; --purge deletes them)",
                server.data.display()
            );
        }
        if docker
            .inspect_network(NETWORK, None::<InspectNetworkOptions>)
            .await
            .is_ok()
        {
            docker
                .remove_network(NETWORK)
                .await
                .with_context(|| format!("removing the network {NETWORK}"))?;
        }
        if purge {
            let options = RemoveVolumeOptionsBuilder::default().force(true).build();
            match docker.remove_volume(VOLUME, Some(options)).await {
                Ok(())
                | Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {}
                Err(err) => {
                    return Err(err).with_context(|| format!("removing the volume {VOLUME}"));
                }
            }
            if let Some(server) = database
                && let Some(folder) = server.data.parent()
            {
                std::fs::remove_dir_all(folder)
                    .with_context(|| format!("removing {}", folder.display()))?;
            }
            println!("removed the containers, the network and the data (volume, database)");
        } else {
            println!(
                "removed the containers and the network; the data volume {VOLUME} is kept (--purge deletes it)"
            );
        }
        anyhow::Ok(())
    })?
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
pub async fn remove_container(docker: &Docker, name: &str) -> anyhow::Result<()> {
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

/// Waits until the service on host port `port` answers `/readyz` with 200.
pub async fn wait_ready(port: u16, timeout: Duration) -> anyhow::Result<()> {
    wait_ready_at(port, "/readyz", timeout).await
}

async fn wait_ready_at(port: u16, path: &str, timeout: Duration) -> anyhow::Result<()> {
    let client = crate::http::client()?;
    let url = format!("http://127.0.0.1:{port}{path}");
    let every = Duration::from_millis(200);
    crate::http::wait_until_ok(&client, &url, timeout, every, crate::http::never_gone).await?;
    Ok(())
}

/// `cargo xtask status` on the docker target: each container's state, health and restarts.
pub fn status() -> anyhow::Result<()> {
    crate::runtime::block_on(async {
        let docker = crate::engine::connect(None).await?;
        println!(
            "{:<26} {:<10} {:<10} {:>8}  image",
            "container", "state", "health", "restarts"
        );
        for name in CONTAINERS {
            let Ok(container) = docker.inspect_container(name, None).await else {
                if name == BACKEND || name == FRONTEND {
                    println!("{name:<24} absent (`cargo xtask up --target docker` starts it)");
                }
                continue;
            };
            let state = container.state.unwrap_or_default();
            let health = state
                .health
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .unwrap_or_default();
            println!(
                "{name:<26} {:<10} {health:<10} {:>8}  {}",
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
        let docker = crate::engine::connect(None).await?;
        let mut names = Vec::new();
        for name in CONTAINERS {
            // The monitoring containers only when `up --monitoring` started them.
            let present = name == BACKEND
                || name == FRONTEND
                || docker.inspect_container(name, None).await.is_ok();
            if present && service.is_none_or(|s| name.ends_with(s)) {
                names.push(name);
            }
        }
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
