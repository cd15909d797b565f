//! `cargo xtask status` on a cluster: the release's Deployments, pods (readiness, restarts,
//! images), autoscalers, and where the UI answers.

use anyhow::Context;
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Pod, Service},
};
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, ListParams},
};

use super::rollout::{Rollout, release_selector};

/// Prints the release's state; returns the UI's URL when its Service is reachable.
pub async fn print(
    client: &Client,
    namespace: &str,
    release: &str,
    node_host: &str,
) -> anyhow::Result<Option<String>> {
    let selector = ListParams::default().labels(&release_selector(release));
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let listed = deployments
        .list(&selector)
        .await
        .with_context(|| format!("listing the Deployments of {release} in {namespace}"))?;
    println!("deployments of release {release} in namespace {namespace}:");
    if listed.items.is_empty() {
        println!("  (none: the release is not installed here)");
    }
    for deployment in &listed.items {
        let rollout = Rollout::of(deployment);
        println!("  {:<32} {}", rollout.name, rollout.line());
    }

    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pods = pods.list(&selector).await.context("listing the pods")?;
    println!("pods:");
    println!(
        "  {:<44} {:>5} {:<18} {:>8}  image",
        "name", "ready", "phase", "restarts"
    );
    for pod in &pods.items {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.clone().unwrap_or_default();
        let containers = status.container_statuses.clone().unwrap_or_default();
        let ready = containers.iter().filter(|c| c.ready).count();
        let restarts: i32 = containers.iter().map(|c| c.restart_count).sum();
        let waiting = containers
            .iter()
            .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
        let phase = if pod.metadata.deletion_timestamp.is_some() {
            "Terminating".to_owned()
        } else {
            waiting.unwrap_or_else(|| status.phase.clone().unwrap_or_default())
        };
        // The spec's references (the status shows only a digest for images pinned by digest).
        let images: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .filter_map(|c| c.image.as_deref().map(short_image))
            .collect();
        println!(
            "  {name:<44} {:>5} {phase:<18} {restarts:>8}  {}",
            format!("{ready}/{}", containers.len()),
            images.join(", ")
        );
    }

    print_autoscalers(client, namespace, release).await;

    let url = ui_url(client, namespace, release, node_host).await?;
    match &url {
        Some(url) => println!("UI: {url}"),
        None => println!(
            "UI: the frontend Service is not a NodePort; reach it with `kubectl -n {namespace} \
             port-forward svc/<release>-frontend 3000:3000` or through the ingress"
        ),
    }
    Ok(url)
}

/// `http://NODE:PORT` of the frontend's NodePort Service, if it has one.
pub async fn ui_url(
    client: &Client,
    namespace: &str,
    release: &str,
    node_host: &str,
) -> anyhow::Result<Option<String>> {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let selector = format!(
        "{},app.kubernetes.io/component=frontend",
        release_selector(release)
    );
    let listed = services
        .list(&ListParams::default().labels(&selector))
        .await
        .context("listing the frontend Service")?;
    let node_port = listed
        .items
        .iter()
        .filter_map(|s| s.spec.as_ref())
        .filter(|spec| spec.type_.as_deref() == Some("NodePort"))
        .flat_map(|spec| spec.ports.iter().flatten())
        .find_map(|port| port.node_port);
    Ok(node_port.map(|port| format!("http://{node_host}:{port}")))
}

/// The release's HorizontalPodAutoscalers, from whichever API the cluster serves
/// (autoscaling/v2 from Kubernetes 1.23, v2beta2 before).
async fn print_autoscalers(client: &Client, namespace: &str, release: &str) {
    for version in ["v2", "v2beta2"] {
        let gvk = GroupVersionKind::gvk("autoscaling", version, "HorizontalPodAutoscaler");
        let resource = ApiResource::from_gvk(&gvk);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let Ok(listed) = api
            .list(&ListParams::default().labels(&release_selector(release)))
            .await
        else {
            continue;
        };
        if listed.items.is_empty() {
            return;
        }
        println!("autoscalers:");
        for hpa in listed.items {
            let name = hpa.metadata.name.clone().unwrap_or_default();
            let spec = &hpa.data["spec"];
            let status = &hpa.data["status"];
            let current = status["currentReplicas"].as_i64().unwrap_or_default();
            let metrics = status["currentMetrics"]
                .as_array()
                .filter(|m| !m.is_empty())
                .map(|m| {
                    m.iter()
                        .filter_map(|metric| {
                            let resource = &metric["resource"];
                            Some(format!(
                                "{} {}%",
                                resource["name"].as_str()?,
                                resource["current"]["averageUtilization"].as_i64()?
                            ))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| "metrics unknown (is metrics-server running?)".to_owned());
            println!(
                "  {name:<32} {current} replicas (min {}, max {}): {metrics}",
                spec["minReplicas"].as_i64().unwrap_or(1),
                spec["maxReplicas"].as_i64().unwrap_or_default()
            );
        }
        return;
    }
}

/// `registry/name@sha256:0123456789ab…` for a digest reference; tags are shown whole.
fn short_image(image: &str) -> String {
    match image.split_once("@sha256:") {
        Some((name, digest)) => format!("{name}@sha256:{}", &digest[..digest.len().min(12)]),
        None => image.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_shortened_and_tags_kept() {
        assert_eq!(
            short_image("localhost:5000/todo-chatbot-backend@sha256:0123456789abcdef0123"),
            "localhost:5000/todo-chatbot-backend@sha256:0123456789ab"
        );
        assert_eq!(
            short_image("todo-chatbot-backend:abc"),
            "todo-chatbot-backend:abc"
        );
    }
}
