//! `up --target minikube`: start (or reuse) a Minikube profile with the seed's 2 CPUs / 4 GB,
//! a Kubernetes version the chart supports and the metrics-server addon (the autoscalers'
//! metrics), build the images into Minikube's Docker Engine, then install the chart and watch
//! the rollout like any cluster (see `cluster`).

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use xshell::{Shell, cmd};

use super::{Resolved, cluster, kube::release_for, state::ReleaseInputs};
use crate::{images, project};

/// Resources Minikube gets when this command starts it (the seed's T014: 2 CPUs, 4 GB).
const CPUS: &str = "2";
const MEMORY_MB: &str = "4096";
/// The Kubernetes version Minikube starts: one the chart is tested against (kube-lab runs 1.20,
/// the schemas are checked for 1.30 to 1.34).
pub const KUBERNETES_VERSION: &str = "v1.32.0";

pub fn up(
    sh: &Shell,
    placement: &Resolved,
    values: &[PathBuf],
    set: &[String],
    build_profile: images::fastpath::BuildProfile,
    monitoring: bool,
    timeout: Duration,
) -> anyhow::Result<cluster::Deployed> {
    let minikube =
        project::require_tool("minikube", "see https://minikube.sigs.k8s.io/docs/start/")?;
    let profile = &placement.profile;
    if cmd!(sh, "{minikube} status -p {profile}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        println!(
            "==> starting Minikube profile {profile} ({CPUS} CPUs, {MEMORY_MB} MB, Kubernetes \
             {KUBERNETES_VERSION})"
        );
        cmd!(sh, "{minikube} start -p {profile} --cpus {CPUS} --memory {MEMORY_MB} --kubernetes-version {KUBERNETES_VERSION} --addons metrics-server")
            .run()
            .context("starting Minikube")?;
    }
    if wants_ingress(values, set) {
        cmd!(sh, "{minikube} -p {profile} addons enable ingress")
            .run()
            .context("enabling Minikube's ingress addon")?;
    }

    println!("==> building the images into Minikube's Docker Engine");
    let env_text = cmd!(sh, "{minikube} -p {profile} docker-env --shell none")
        .read()
        .context("reading `minikube docker-env`")?;
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    // The tag is fixed before the build, so an edit made while it runs cannot make the chart
    // ask for a tag that was never built.
    let tag = images::current_tag(sh)?;
    let profile = build_profile.name();
    let mut images = cmd!(sh, "{xtask} images --tag {tag} --build-profile {profile}");
    for (key, value) in parse_docker_env(&env_text) {
        images = images.env(key, value);
    }
    images.run().context("building the images")?;

    let node_ip = node_ip(sh, profile)?;
    let image_tag = vec![format!("image.tag={tag}")];
    let set = cluster::monitoring_values(placement, monitoring)
        .into_iter()
        .chain(set.iter().cloned())
        .collect();
    let release = release_for(placement, values, set, image_tag, timeout);
    let ui_url = cluster::deploy(sh, &release, Some(&node_ip), timeout)?;
    let monitoring = if monitoring {
        Some(cluster::start_monitoring(
            sh,
            &engine(&placement.profile)?,
            crate::monitoring::cluster::Source::NodeEngine,
            placement,
            Some(&node_ip),
            timeout,
        )?)
    } else {
        None
    };
    Ok(cluster::Deployed {
        ui_url,
        inputs: ReleaseInputs::of(&release, None),
        monitoring,
    })
}

/// Where the profile's NodePorts answer (`minikube ip`).
pub fn node_ip(sh: &Shell, profile: &str) -> anyhow::Result<String> {
    let minikube =
        project::require_tool("minikube", "see https://minikube.sigs.k8s.io/docs/start/")?;
    let ip = cmd!(sh, "{minikube} -p {profile} ip")
        .read()
        .context("reading `minikube ip`")?;
    Ok(ip.trim().to_owned())
}

/// True when the values ask for the ingress (then Minikube's ingress addon is enabled).
fn wants_ingress(values: &[PathBuf], set: &[String]) -> bool {
    set.iter()
        .any(|s| s.replace(' ', "") == "ingress.enabled=true")
        || values
            .iter()
            .any(|file| std::fs::read_to_string(file).is_ok_and(|text| ingress_enabled_in(&text)))
}

/// True when a values file's top-level `ingress:` block has `enabled: true` directly under it.
fn ingress_enabled_in(text: &str) -> bool {
    let mut in_ingress = false;
    for line in text.lines() {
        if !line.starts_with([' ', '#']) && !line.is_empty() {
            in_ingress = line.trim_end() == "ingress:";
        } else if in_ingress && line.trim_end() == "  enabled: true" {
            return true;
        }
    }
    false
}

/// Reads `minikube docker-env --shell none` output: `KEY=VALUE` lines.
/// A connection to the Docker Engine inside the Minikube profile (what `minikube docker-env`
/// names: a TCP address with TLS client certificates).
pub fn engine(profile: &str) -> anyhow::Result<bollard::Docker> {
    let minikube =
        project::require_tool("minikube", "see https://minikube.sigs.k8s.io/docs/start/")?;
    let sh = Shell::new().context("starting a shell")?;
    let text = cmd!(sh, "{minikube} -p {profile} docker-env --shell none")
        .read()
        .context("reading `minikube docker-env`")?;
    let vars = parse_docker_env(&text);
    let var = |name: &str| {
        vars.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .with_context(|| format!("`minikube docker-env` gave no {name}"))
    };
    let host = var("DOCKER_HOST")?;
    let certs = PathBuf::from(var("DOCKER_CERT_PATH")?);
    bollard::Docker::connect_with_ssl(
        &host,
        &certs.join("key.pem"),
        &certs.join("cert.pem"),
        &certs.join("ca.pem"),
        120,
        bollard::API_DEFAULT_VERSION,
    )
    .with_context(|| format!("connecting to Minikube's Docker Engine at {host}"))
}

fn parse_docker_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.trim().split_once('='))
        .filter(|(key, _)| key.starts_with("DOCKER_") || *key == "MINIKUBE_ACTIVE_DOCKERD")
        .map(|(key, value)| (key.to_owned(), value.trim_matches('"').to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn docker_env_lines_become_variables() {
        let text = "DOCKER_TLS_VERIFY=\"1\"\nDOCKER_HOST=\"tcp://192.168.49.2:2376\"\n\
                    DOCKER_CERT_PATH=\"/home/me/.minikube/certs\"\nMINIKUBE_ACTIVE_DOCKERD=\"todo\"\n";
        let vars = parse_docker_env(text);
        assert_eq!(vars.len(), 4);
        assert!(vars.contains(&(
            "DOCKER_HOST".to_owned(),
            "tcp://192.168.49.2:2376".to_owned()
        )));
        assert!(vars.contains(&("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned())));
    }

    #[test]
    fn the_ingress_addon_follows_the_values() {
        assert!(wants_ingress(&[], &["ingress.enabled=true".into()]));
        assert!(!wants_ingress(&[], &["ingress.enabled=false".into()]));
        let dir = tempfile::tempdir().unwrap();
        let production = crate::catalog::chart_dir().join(crate::catalog::PRODUCTION_PROFILE);
        assert!(wants_ingress(&[production], &[]));
        let minikube = crate::catalog::chart_dir().join(crate::catalog::MINIKUBE_PROFILE);
        assert!(!wants_ingress(&[minikube], &[]));
        let other = dir.path().join("v.yaml");
        std::fs::write(&other, "ingress:\n  enabled: true\n").unwrap();
        assert!(wants_ingress(&[other], &[]));
    }
}
