//! `up --target minikube`: start (or reuse) a Minikube profile, build the images into its
//! Docker Engine, install or upgrade the Helm chart with the Minikube profile, and wait for the
//! rollouts; on a failed rollout print the pods' events and last log lines.

use std::time::Duration;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use crate::project;

/// Resources Minikube gets when this command starts it (the seed's T014: 2 CPUs, 4 GB).
const CPUS: &str = "2";
const MEMORY_MB: &str = "4096";

pub fn up(sh: &Shell, profile: &str, namespace: &str, timeout: Duration) -> anyhow::Result<()> {
    let minikube =
        project::require_tool("minikube", "see https://minikube.sigs.k8s.io/docs/start/")?;
    let helm = project::require_tool("helm", "see https://helm.sh/docs/intro/install/")?;
    let kubectl = project::require_tool("kubectl", "see https://kubernetes.io/docs/tasks/tools/")?;

    if cmd!(sh, "{minikube} status -p {profile}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        println!("==> starting Minikube profile {profile} ({CPUS} CPUs, {MEMORY_MB} MB)");
        cmd!(sh, "{minikube} start -p {profile} --cpus {CPUS} --memory {MEMORY_MB} --addons metrics-server")
            .run()
            .context("starting Minikube")?;
    }

    println!("==> building the images into Minikube's Docker Engine");
    let env_text = cmd!(sh, "{minikube} -p {profile} docker-env --shell none")
        .read()
        .context("reading `minikube docker-env`")?;
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    // The tag is fixed before the build, so an edit made while it runs cannot make the chart
    // ask for a tag that was never built.
    let tag = crate::images::current_tag(sh)?;
    let mut images = cmd!(sh, "{xtask} images --tag {tag}");
    for (key, value) in parse_docker_env(&env_text) {
        images = images.env(key, value);
    }
    images.run().context("building the images")?;

    println!("==> helm upgrade --install {namespace} (tag {tag})");
    let chart = project::deploy_dir().join("helm").join("todo-chatbot");
    let values = chart.join("values-minikube.yaml");
    let wait = format!("{}s", timeout.as_secs());
    cmd!(sh, "{helm} upgrade --install {namespace} {chart} --namespace {namespace} --create-namespace -f {values} --set image.tag={tag} --kube-context {profile} --timeout {wait}")
        .run()
        .context("helm upgrade --install")?;

    println!("==> waiting for the rollouts");
    for deployment in ["backend", "frontend"] {
        let name = format!("deployment/{namespace}-{deployment}");
        let rollout = cmd!(
            sh,
            "{kubectl} --context {profile} -n {namespace} rollout status {name} --timeout {wait}"
        )
        .run();
        if rollout.is_err() {
            diagnose(sh, &kubectl, profile, namespace);
            bail!("{name} did not become ready within {wait}; the pods' events and logs are above");
        }
    }
    let url = cmd!(
        sh,
        "{minikube} -p {profile} service -n {namespace} {namespace}-frontend --url"
    )
    .read()
    .unwrap_or_else(|_| {
        format!("run `minikube -p {profile} service -n {namespace} {namespace}-frontend --url`")
    });
    println!();
    println!("ready: UI {}", url.lines().next().unwrap_or_default());
    println!("       status: kubectl --context {profile} -n {namespace} get pods");
    Ok(())
}

pub fn down(sh: &Shell, profile: &str, namespace: &str, purge: bool) -> anyhow::Result<()> {
    let helm = project::require_tool("helm", "see https://helm.sh/docs/intro/install/")?;
    cmd!(sh, "{helm} uninstall {namespace} --namespace {namespace} --kube-context {profile} --ignore-not-found")
        .run()
        .context("helm uninstall")?;
    if purge {
        let kubectl =
            project::require_tool("kubectl", "see https://kubernetes.io/docs/tasks/tools/")?;
        cmd!(
            sh,
            "{kubectl} --context {profile} delete namespace {namespace} --ignore-not-found"
        )
        .run()
        .context("deleting the namespace")?;
    }
    Ok(())
}

/// Prints what explains a stuck rollout: pod states, recent events, and each pod's last log lines.
fn diagnose(sh: &Shell, kubectl: &std::path::Path, profile: &str, namespace: &str) {
    let _ = cmd!(
        sh,
        "{kubectl} --context {profile} -n {namespace} get pods -o wide"
    )
    .run();
    let _ = cmd!(
        sh,
        "{kubectl} --context {profile} -n {namespace} get events --sort-by=.lastTimestamp"
    )
    .run();
    let pods = cmd!(
        sh,
        "{kubectl} --context {profile} -n {namespace} get pods -o name"
    )
    .read()
    .unwrap_or_default();
    for pod in pods.lines() {
        println!("--- last log lines of {pod}");
        let _ = cmd!(
            sh,
            "{kubectl} --context {profile} -n {namespace} logs {pod} --all-containers --tail 30"
        )
        .run();
    }
}

/// Reads `minikube docker-env --shell none` output: `KEY=VALUE` lines.
fn parse_docker_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.trim().split_once('='))
        .filter(|(key, _)| key.starts_with("DOCKER_") || *key == "MINIKUBE_ACTIVE_DOCKERD")
        .map(|(key, value)| (key.to_owned(), value.trim_matches('"').to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
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
}
