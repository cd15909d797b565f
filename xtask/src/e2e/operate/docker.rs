//! The docker target's side of the modes, through bollard: the backend replaced by a container
//! of a new image that shares its network alias (on PostgreSQL ready before the old one is
//! told to stop; on SQLite after the old one is gone),
//! a container killed with SIGKILL (the engine's restart policy brings it back), memory from the
//! engine's statistics.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use bollard::{
    Docker,
    models::{ContainerCreateBody, EndpointSettings, NetworkingConfig, PortBinding},
    query_parameters::{
        CreateContainerOptionsBuilder, RenameContainerOptionsBuilder, StatsOptionsBuilder,
    },
};
use futures::StreamExt;

use super::Rolled;
use crate::{
    catalog::{SERVICES, Service},
    images::derive,
    postgres::Server,
    up::{
        docker::{
            BACKEND, BACKEND_ALIAS, CONFIG_DIGEST_LABEL, FRONTEND, NETWORK, remove_container,
            wait_ready,
        },
        state::Stack,
    },
};

/// A stack `up --target docker` started.
pub struct DockerStack {
    docker: Docker,
    pub database: Option<Server>,
}

/// The longest a new backend container may take to answer `/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(120);

impl DockerStack {
    pub async fn connect(stack: &Stack) -> anyhow::Result<Self> {
        Ok(Self {
            docker: crate::engine::connect(None).await?,
            database: stack.database.clone(),
        })
    }

    /// The backend, replaced by a container of a derived image. On PostgreSQL the new one joins
    /// the network under the same alias and answers `/readyz`, then the old one gets SIGTERM
    /// (it drains) and is removed, and the new one takes the old name. On SQLite, which one
    /// backend serves (it holds the file's lock and keeps listings in memory), the old one
    /// drains and goes first, as the chart's `Recreate` does. The frontend cannot roll: it
    /// holds the published UI port, which one container owns at a time.
    pub async fn roll(&self, service: &Service) -> anyhow::Result<Rolled> {
        if service.binary != "backend" {
            return Ok(Rolled::NotWithoutGap(format!(
                "the {} container owns the UI's published host port, which only one container \
                 can hold: replacing it is a restart of a second or two (`cargo xtask up`), not \
                 a rolling update",
                service.binary
            )));
        }
        let old = self
            .docker
            .inspect_container(BACKEND, None)
            .await
            .with_context(|| format!("inspecting {BACKEND} (is the stack up?)"))?;
        let old_config = old.config.unwrap_or_default();
        let old_image = old_config
            .image
            .clone()
            .context("the backend container names no image")?;
        let base_tag = old_image.rsplit_once(':').map_or("", |(_, tag)| tag);
        let new_image = format!("{}:{}", service.image, super::rollout_tag(base_tag));
        derive::derive(&self.docker, &old_image, &new_image, &new_image).await?;

        let mut host = old.host_config.unwrap_or_default();
        let side_by_side = self.database.is_some();
        if side_by_side {
            // The published API port stays with the old container until it goes; the new one
            // is reached on a port of the engine's choosing for its readiness check.
            host.port_bindings = Some(
                [(
                    format!("{}/tcp", service.port),
                    Some(vec![PortBinding {
                        host_ip: Some("127.0.0.1".to_owned()),
                        host_port: Some(String::new()),
                    }]),
                )]
                .into(),
            );
        }
        // Not what `up` made: the next `up` replaces it (and publishes the API port again).
        let mut labels = old_config.labels.unwrap_or_default();
        labels.remove(CONFIG_DIGEST_LABEL);
        let config = ContainerCreateBody {
            image: Some(new_image.clone()),
            env: old_config.env,
            labels: Some(labels),
            user: old_config.user,
            cmd: old_config.cmd,
            entrypoint: old_config.entrypoint,
            working_dir: old_config.working_dir,
            exposed_ports: old_config.exposed_ports,
            stop_signal: old_config.stop_signal,
            host_config: Some(host),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(
                    [(
                        NETWORK.to_owned(),
                        EndpointSettings {
                            aliases: Some(vec![BACKEND_ALIAS.to_owned()]),
                            ..Default::default()
                        },
                    )]
                    .into(),
                ),
            }),
            ..Default::default()
        };
        if !side_by_side {
            return self.recreate(service, config, &new_image).await;
        }
        let next = format!("{BACKEND}-next");
        remove_container(&self.docker, &next).await?;
        let started = async {
            self.docker
                .create_container(
                    Some(CreateContainerOptionsBuilder::default().name(&next).build()),
                    config,
                )
                .await
                .with_context(|| format!("creating {next}"))?;
            self.docker
                .start_container(&next, None)
                .await
                .with_context(|| format!("starting {next}"))?;
            let port = crate::engine::published_port(&self.docker, &next, service.port).await?;
            if let Err(err) = wait_ready(port, READY_WITHIN).await {
                crate::engine::print_container_logs(&self.docker, &next).await;
                return Err(err.context(format!("{new_image} did not become ready")));
            }
            anyhow::Ok(port)
        }
        .await;
        let port = match started {
            Ok(port) => port,
            Err(err) => {
                let _ = remove_container(&self.docker, &next).await;
                return Err(err.context("the new backend is removed; the old one still serves"));
            }
        };
        // SIGTERM with the engine's grace: the old backend drains, then exits.
        remove_container(&self.docker, BACKEND).await.with_context(|| {
            format!("both backends may run now ({BACKEND} and {next}); `cargo xtask up` replaces them")
        })?;
        self.docker
            .rename_container(
                &next,
                RenameContainerOptionsBuilder::default()
                    .name(BACKEND)
                    .build(),
            )
            .await
            .with_context(|| {
                format!("renaming {next} to {BACKEND}: the new backend serves as {next}; `cargo xtask up` replaces it")
            })?;
        Ok(Rolled::Replaced {
            instances: vec![format!("{BACKEND} ({new_image}, API on 127.0.0.1:{port})")],
        })
    }

    /// The SQLite backend's replacement: SIGTERM to the old one (it drains, then exits), then
    /// the new one under the same name, port and volume, until it answers `/readyz`.
    async fn recreate(
        &self,
        service: &Service,
        config: ContainerCreateBody,
        new_image: &str,
    ) -> anyhow::Result<Rolled> {
        remove_container(&self.docker, BACKEND).await?;
        let started = async {
            self.docker
                .create_container(
                    Some(
                        CreateContainerOptionsBuilder::default()
                            .name(BACKEND)
                            .build(),
                    ),
                    config,
                )
                .await
                .with_context(|| format!("creating {BACKEND}"))?;
            self.docker
                .start_container(BACKEND, None)
                .await
                .with_context(|| format!("starting {BACKEND}"))?;
            let port = crate::engine::published_port(&self.docker, BACKEND, service.port).await?;
            if let Err(err) = wait_ready(port, READY_WITHIN).await {
                crate::engine::print_container_logs(&self.docker, BACKEND).await;
                return Err(err.context(format!("{new_image} did not become ready")));
            }
            anyhow::Ok(port)
        }
        .await;
        let port = started.context(
            "the old backend is gone (SQLite is served by one backend at a time): \
             `cargo xtask up` starts the stack's own again",
        )?;
        Ok(Rolled::Replaced {
            instances: vec![format!("{BACKEND} ({new_image}, API on 127.0.0.1:{port})")],
        })
    }

    /// SIGKILL to the backend's process, from this machine, as a crash would end it; its
    /// restart policy brings it back. (The engine's own kill counts as a deliberate stop, after
    /// which the policy does not restart the container: not what a crash does.)
    pub async fn kill_backend(&self) -> anyhow::Result<String> {
        let container = self
            .docker
            .inspect_container(BACKEND, None)
            .await
            .with_context(|| format!("inspecting {BACKEND}"))?;
        let pid = container
            .state
            .and_then(|s| s.pid)
            .filter(|pid| *pid > 0)
            .with_context(|| format!("{BACKEND} is not running"))?;
        // The engine reports the process id in its own namespace: only when that process on
        // this machine belongs to the container may it be signalled.
        let id = container.id.unwrap_or_default();
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        if id.is_empty() || !cgroup.contains(&id) {
            anyhow::bail!(
                "process {pid} on this machine is not {BACKEND}'s: the Docker Engine runs \
                 elsewhere (a remote DOCKER_HOST, a VM), and --chaos on the docker target needs \
                 the engine on this machine"
            );
        }
        let output = tokio::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .output()
            .await
            .context("running kill")?;
        if !output.status.success() {
            anyhow::bail!(
                "could not send SIGKILL to {BACKEND}'s process {pid} ({}): --chaos on the docker \
                 target needs the engine on this machine and the right to signal its processes \
                 (run as root)",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(format!("{BACKEND} (process {pid})"))
    }

    /// The status the backend's own `/readyz` answers (through its published port).
    pub async fn backend_readiness(&self) -> anyhow::Result<u16> {
        let port = crate::engine::published_port(&self.docker, BACKEND, SERVICES[0].port).await?;
        let response = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .context("asking the backend's /readyz")?;
        Ok(response.status().as_u16())
    }

    /// The backend's `/metrics` text (through its published port).
    pub async fn backend_metrics(&self) -> anyhow::Result<Vec<String>> {
        let port = crate::engine::published_port(&self.docker, BACKEND, SERVICES[0].port).await?;
        let text = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .context("asking the backend's /metrics")?
            .error_for_status()
            .context("the backend's /metrics")?
            .text()
            .await
            .context("reading the backend's /metrics")?;
        Ok(vec![text])
    }

    /// Stops the backend container (the engine leaves a stopped container stopped) or starts
    /// it again, as an outage that lasts until told otherwise.
    pub async fn set_backend_running(&self, running: bool) -> anyhow::Result<()> {
        if running {
            self.docker
                .start_container(BACKEND, None)
                .await
                .with_context(|| format!("starting {BACKEND} again"))
        } else {
            let options = bollard::query_parameters::StopContainerOptionsBuilder::default()
                .t(10)
                .build();
            self.docker
                .stop_container(BACKEND, Some(options))
                .await
                .with_context(|| format!("stopping {BACKEND}"))
        }
    }

    /// Restarts the stack's Prometheus (`up --monitoring`), which starts it with no data.
    pub async fn restart_prometheus(&self) -> anyhow::Result<()> {
        let name = crate::monitoring::PROMETHEUS;
        let options = bollard::query_parameters::RestartContainerOptionsBuilder::default()
            .t(10)
            .build();
        self.docker
            .restart_container(name, Some(options))
            .await
            .with_context(|| format!("restarting {name} (is the stack up with --monitoring?)"))
    }

    /// How often the engine restarted each container.
    pub async fn restarts(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        let mut restarts = BTreeMap::new();
        for name in [BACKEND, FRONTEND] {
            let container = self
                .docker
                .inspect_container(name, None)
                .await
                .with_context(|| format!("inspecting {name}"))?;
            restarts.insert(name.to_owned(), container.restart_count.unwrap_or_default());
        }
        Ok(restarts)
    }

    /// Each container's anonymous memory (the processes' own, without the page cache that the
    /// engine's usage figure includes: SQLite's file pages would swamp it).
    pub async fn memory(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        let mut memory = BTreeMap::new();
        for name in [BACKEND, FRONTEND] {
            let options = StatsOptionsBuilder::default()
                .stream(false)
                .one_shot(true)
                .build();
            let stats = self
                .docker
                .stats(name, Some(options))
                .next()
                .await
                .with_context(|| format!("{name} gave no statistics"))?
                .with_context(|| format!("reading the statistics of {name}"))?;
            let memory_stats = stats.memory_stats.unwrap_or_default();
            // cgroup v2 calls it `anon`, v1 `rss` (`total_rss` with hierarchy).
            let anonymous = memory_stats
                .stats
                .as_ref()
                .and_then(|s| {
                    s.get("anon")
                        .or_else(|| s.get("total_rss"))
                        .or_else(|| s.get("rss"))
                })
                .copied()
                .with_context(|| format!("the engine reports no anonymous memory for {name}"))?;
            memory.insert(name.to_owned(), anonymous);
        }
        Ok(memory)
    }
}
