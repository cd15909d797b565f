//! Reading the cluster with kube-rs: the client for a kubeconfig context, the rollout wait with
//! its diagnosis, `status` and `logs`. Helm installs (see `crate::helm::release`); this module
//! only reads, and deletes what Helm leaves behind (`cleanup`).

pub mod cleanup;
pub mod diagnose;
pub mod events;
pub mod logs;
pub mod rollout;
pub mod status;

use anyhow::Context;
use k8s_openapi::api::core::v1::Node;
use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

use crate::helm::release::Cluster;

/// A client for `cluster`: its kubeconfig file (else `KUBECONFIG`, else `~/.kube/config`) and
/// context (else the current one), and the API server's URL.
pub async fn connect(cluster: &Cluster) -> anyhow::Result<(Client, String)> {
    let options = KubeConfigOptions {
        context: cluster.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &cluster.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("reading the kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await
        }
        None => Config::from_kubeconfig(&options).await,
    }
    .with_context(|| {
        format!(
            "no usable kubeconfig{}: point KUBECONFIG (or --kubeconfig) at one, or start a \
             cluster (`minikube start`, `kind create cluster`)",
            cluster
                .context
                .as_ref()
                .map(|c| format!(" with context {c}"))
                .unwrap_or_default()
        )
    })?;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).context("building the Kubernetes client")?;
    client
        .apiserver_version()
        .await
        .with_context(|| format!("the Kubernetes API server at {server} does not answer"))?;
    Ok((client, server))
}

/// Where the cluster's NodePorts answer from this machine: 127.0.0.1 when the API server is on
/// this machine (kind with port mappings, a local lab), else the first node's address.
pub async fn node_host(client: &Client, server: &str) -> String {
    let host = server_host(server).unwrap_or_default();
    if host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    {
        return "127.0.0.1".to_owned();
    }
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let address = nodes
        .list(&kube::api::ListParams::default())
        .await
        .ok()
        .and_then(|list| list.items.into_iter().next())
        .and_then(|node| node.status?.addresses)
        .and_then(|addresses| {
            let pick = |kind: &str| {
                addresses
                    .iter()
                    .find(|a| a.type_ == kind)
                    .map(|a| a.address.clone())
            };
            pick("ExternalIP").or_else(|| pick("InternalIP"))
        });
    address.unwrap_or(host)
}

/// The API server's host, to tell a local cluster (NodePorts on 127.0.0.1) from a remote one.
pub fn server_host(client_url: &str) -> Option<String> {
    let rest = client_url.split_once("://").map_or(client_url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    Some(host.trim_matches(['[', ']']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_host_is_read_from_its_url() {
        assert_eq!(
            server_host("https://127.0.0.1:6443/").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(server_host("https://[::1]:6443").as_deref(), Some("::1"));
        assert_eq!(
            server_host("https://k8s.example.com").as_deref(),
            Some("k8s.example.com")
        );
    }
}
