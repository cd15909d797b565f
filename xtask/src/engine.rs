//! The Docker Engine, as every command that runs containers meets it: the connection (with a
//! bounded version handshake), the locked-down container config, the host port the engine
//! published, and a container's last log lines. Used by `images --check`, `up --target docker`
//! and the end-to-end work against it.

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use bollard::{
    Docker,
    models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig, PortBinding},
    query_parameters::LogsOptionsBuilder,
};
use futures::StreamExt;

/// Connects to the engine named by `engine` (or `DOCKER_HOST`, or the local socket) and agrees
/// on an API version with it.
pub async fn connect(engine: Option<&str>) -> anyhow::Result<Docker> {
    let shown = engine.unwrap_or("the local socket (unix:///var/run/docker.sock)");
    let docker = match engine {
        Some(host) => Docker::connect_with_host(host),
        None => Docker::connect_with_defaults(),
    }
    .with_context(|| format!("connecting to the Docker Engine at {shown}"))?;
    let negotiated = tokio::time::timeout(std::time::Duration::from_secs(15), docker.negotiate_version())
        .await
        .with_context(|| format!("the Docker Engine at {shown} did not answer within 15 s"))?
        .with_context(|| {
            format!("the Docker Engine at {shown} is not reachable; start it, or point --engine/DOCKER_HOST at one")
        })?;
    Ok(negotiated)
}

/// The lock-down every run of the project's images has (`images --check`, `up --target docker`):
/// read-only root filesystem, no capabilities, no new privileges, bounded memory and pids, a
/// small `/tmp`, `port` published on 127.0.0.1 (on a host port the engine picks), on `network`.
pub fn locked_down_config(
    image: &str,
    port: u16,
    network: &str,
    env: Vec<String>,
) -> ContainerCreateBody {
    let bindings = HashMap::from([(
        format!("{port}/tcp"),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".to_owned()),
            host_port: Some(String::new()),
        }]),
    )]);
    ContainerCreateBody {
        image: Some(image.to_owned()),
        env: Some(env),
        host_config: Some(HostConfig {
            readonly_rootfs: Some(true),
            cap_drop: Some(vec!["ALL".to_owned()]),
            security_opt: Some(vec!["no-new-privileges".to_owned()]),
            port_bindings: Some(bindings),
            tmpfs: Some(HashMap::from([(
                "/tmp".to_owned(),
                "rw,noexec,nosuid,size=16m".to_owned(),
            )])),
            pids_limit: Some(256),
            memory: Some(256 * 1024 * 1024),
            network_mode: Some(network.to_owned()),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_owned(),
                EndpointSettings::default(),
            )])),
        }),
        ..Default::default()
    }
}

/// The host port the engine picked for the container's `port`.
pub async fn published_port(docker: &Docker, name: &str, port: u16) -> anyhow::Result<u16> {
    let inspected = docker
        .inspect_container(name, None)
        .await
        .with_context(|| format!("inspecting {name}"))?;
    let host_port = inspected
        .network_settings
        .and_then(|n| n.ports)
        .and_then(|ports| ports.get(&format!("{port}/tcp")).cloned().flatten())
        .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port))
        .with_context(|| format!("{name} has no published port for {port}/tcp"))?;
    host_port
        .parse()
        .with_context(|| format!("{name}'s published port `{host_port}` is not a number"))
}

/// Prints a container's last 40 log lines to stderr (bounded: the engine gets 5 s to send them).
pub async fn print_container_logs(docker: &Docker, name: &str) {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail("40")
        .build();
    let mut logs = docker.logs(name, Some(options));
    eprintln!("---- last log lines of {name}");
    let collect = async {
        while let Some(Ok(line)) = logs.next().await {
            eprint!("{line}");
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), collect)
        .await
        .is_err()
    {
        eprintln!("(the engine did not send the logs within 5 s)");
    }
    eprintln!("---- end of {name}");
}
