//! The cluster targets' side of the modes: a service replaced through a Helm upgrade to a new
//! image (pushed to the stack's registry, pinned by digest, every other value as `up` installed
//! it), a backend pod deleted with no grace, memory from the kubelets' summaries, replicas from
//! the autoscalers.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{Context, bail};
use k8s_openapi::api::{
    autoscaling::v1::HorizontalPodAutoscaler,
    core::v1::{Node, Pod},
};
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams},
};
use serde_json::Value;

use super::Rolled;
use crate::{
    catalog::Service,
    helm::{release::Cluster, release::Release},
    images::{derive, push},
    kube as cluster_api,
    runtime::block_on,
    up::{
        cluster,
        state::{ReleaseInputs, Stack},
    },
};

/// A release `up` installed on a cluster.
pub struct KubeStack {
    client: Client,
    pub target: String,
    pub namespace: String,
    release: String,
    cluster: Cluster,
    /// What the release runs with now: each rollout changes one digest and keeps the others.
    inputs: std::sync::Mutex<Option<ReleaseInputs>>,
}

/// The longest a rolling upgrade of one service may take.
const UPGRADE_WITHIN: Duration = Duration::from_secs(300);

impl KubeStack {
    pub async fn connect(stack: &Stack) -> anyhow::Result<Self> {
        let cluster = Cluster {
            kubeconfig: stack.kubeconfig.clone(),
            context: stack.context.clone(),
        };
        let (client, _) = cluster_api::connect(&cluster).await?;
        Ok(Self {
            client,
            target: stack.target.clone(),
            namespace: stack
                .namespace
                .clone()
                .context("the stack record names no namespace; run `cargo xtask up` again")?,
            release: stack
                .release
                .clone()
                .context("the stack record names no release; run `cargo xtask up` again")?,
            cluster,
            inputs: std::sync::Mutex::new(stack.release_inputs.clone()),
        })
    }

    fn selector(&self, component: &str) -> String {
        format!(
            "{},app.kubernetes.io/component={component}",
            cluster_api::rollout::release_selector(&self.release)
        )
    }

    /// Backend pods that are ready and not being deleted (a pod killed a moment ago is gone
    /// from this count at once, while its Deployment's status may still show it).
    /// The namespace's pods that `selector` matches.
    async fn pods(&self, selector: &str) -> anyhow::Result<Vec<Pod>> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        Ok(api
            .list(&ListParams::default().labels(selector))
            .await
            .with_context(|| format!("listing the pods ({selector})"))?
            .items)
    }

    pub async fn backend_instances(&self) -> anyhow::Result<usize> {
        Ok(self
            .pods(&self.selector("backend"))
            .await?
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count())
    }

    /// A Helm upgrade of the release as `up` installed it, with `service`'s image replaced by a
    /// derived one (same bytes, new digest); waits for the rollout as `up` does.
    pub fn roll(&self, service: &Service) -> anyhow::Result<Rolled> {
        let inputs = self
            .inputs
            .lock()
            .map_err(|_| anyhow::anyhow!("the release inputs' lock is poisoned"))?
            .clone()
            .context("the stack record has no release inputs; run `cargo xtask up` again")?;
        let tag = inputs
            .set_string
            .iter()
            .find_map(|s| s.strip_prefix("image.tag="))
            .context("the stack record names no image tag; run `cargo xtask up` again")?;
        let current_tag = inputs
            .set_string
            .iter()
            .find_map(|s| s.strip_prefix(&format!("{}.image.tag=", service.binary)))
            .unwrap_or(tag);
        let new_tag = super::rollout_tag(tag);
        let mut set_string = inputs.set_string.clone();
        // Where the images live decides how the release names the new one: pinned by its
        // registry digest (kube), or by a tag of its own in Minikube's engine.
        let (key, value) = match inputs.registry.as_deref() {
            Some(registry) => {
                let base = format!("{registry}/{}:{current_tag}", service.image);
                let new_image = format!("{registry}/{}:{new_tag}", service.image);
                let digest = block_on(async {
                    let docker = crate::engine::connect(None).await?;
                    derive::derive(&docker, &base, &new_image, &new_image).await?;
                    push::push(&docker, &new_image).await?;
                    crate::up::kube::pushed_digest(&docker, registry, service.image, &new_tag).await
                })??;
                (format!("{}.image.digest=", service.binary), digest)
            }
            None => {
                let profile = self
                    .cluster
                    .context
                    .clone()
                    .unwrap_or_else(|| "minikube".to_owned());
                let docker = crate::up::minikube::engine(&profile)?;
                let base = format!("{}:{current_tag}", service.image);
                let new_image = format!("{}:{new_tag}", service.image);
                block_on(derive::derive(&docker, &base, &new_image, &new_image))??;
                (format!("{}.image.tag=", service.binary), new_tag.clone())
            }
        };
        set_string.retain(|s| !s.starts_with(&key));
        set_string.push(format!("{key}{value}"));
        let expected = value;
        let release = Release {
            name: self.release.clone(),
            namespace: self.namespace.clone(),
            cluster: self.cluster.clone(),
            chart: crate::catalog::chart_dir(),
            values_files: inputs.values.clone(),
            set: inputs.set.clone(),
            set_string,
            timeout: UPGRADE_WITHIN,
        };
        let sh = xshell::Shell::new().context("starting a shell")?;
        cluster::deploy(&sh, &release, None, UPGRADE_WITHIN)?;
        // The release now runs the new image: the next rollout (and the record) start from it.
        let now = ReleaseInputs {
            set_string: release.set_string.clone(),
            ..inputs.clone()
        };
        if let Ok(mut current) = self.inputs.lock() {
            *current = Some(now.clone());
        }
        if let Some(mut recorded) = Stack::load()? {
            recorded.release_inputs = Some(now);
            recorded.save()?;
        }
        let instances = block_on(self.pods(&self.selector(service.binary)))??
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter_map(|p| {
                let image = p.spec.as_ref()?.containers.first()?.image.clone()?;
                Some(format!("{} ({image})", p.metadata.name.clone()?))
            })
            .collect::<Vec<_>>();
        let stale: Vec<&String> = instances
            .iter()
            .filter(|i| !i.contains(&expected))
            .collect();
        if !stale.is_empty() {
            bail!("pods still run the old image after the upgrade: {stale:?}");
        }
        Ok(Rolled::Replaced { instances })
    }

    /// Deletes one ready backend pod with a grace period of zero (SIGKILL).
    pub async fn kill_backend(&self) -> anyhow::Result<String> {
        let victim = self
            .pods(&self.selector("backend"))
            .await?
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .find_map(|p| p.metadata.name.clone())
            .context("no backend pod runs")?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        pods.delete(
            &victim,
            &DeleteParams {
                grace_period_seconds: Some(0),
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("deleting pod {victim}"))?;
        Ok(format!("pod {victim}"))
    }

    /// Each service container's resident memory, from its node's kubelet summary
    /// (`/stats/summary` through the API server: what metrics-server reads).
    pub async fn memory(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let mut memory = BTreeMap::new();
        for node in nodes.list(&ListParams::default()).await?.items {
            let name = node.metadata.name.unwrap_or_default();
            let request = hyper::Request::get(format!("/api/v1/nodes/{name}/proxy/stats/summary"))
                .body(Vec::new())
                .context("building the summary request")?;
            let summary: Value = self
                .client
                .request(request)
                .await
                .with_context(|| format!("reading node {name}'s kubelet summary"))?;
            for pod in summary["pods"].as_array().into_iter().flatten() {
                let pod_ref = &pod["podRef"];
                let pod_name = pod_ref["name"].as_str().unwrap_or_default();
                if pod_ref["namespace"] != self.namespace.as_str()
                    || !pod_name.starts_with(&self.release)
                {
                    continue;
                }
                for container in pod["containers"].as_array().into_iter().flatten() {
                    let bytes = container["memory"]["rssBytes"]
                        .as_u64()
                        .or_else(|| container["memory"]["workingSetBytes"].as_u64());
                    if let Some(bytes) = bytes {
                        memory.insert(
                            format!("{pod_name}/{}", container["name"].as_str().unwrap_or("?")),
                            bytes,
                        );
                    }
                }
            }
        }
        Ok(memory)
    }

    /// Each running backend pod's `/metrics` text, through the API server's pod proxy.
    pub async fn backend_metrics(&self, port: u16) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for pod in self.pods(&self.selector("backend")).await? {
            let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let Some(name) = pod
                .metadata
                .name
                .filter(|_| running && pod.metadata.deletion_timestamp.is_none())
            else {
                continue;
            };
            let request = hyper::Request::get(format!(
                "/api/v1/namespaces/{}/pods/{name}:{port}/proxy/metrics",
                self.namespace
            ))
            .body(Vec::new())
            .context("building the metrics request")?;
            texts.push(self.client.request_text(request).await.with_context(|| {
                format!("reading pod {name}'s /metrics through the API server")
            })?);
        }
        anyhow::ensure!(!texts.is_empty(), "no backend pod runs");
        Ok(texts)
    }

    /// Container restarts of each of the release's pods.
    pub async fn restarts(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        Ok(self
            .pods(&cluster_api::rollout::release_selector(&self.release))
            .await?
            .into_iter()
            .map(|p| {
                let restarts = p
                    .status
                    .and_then(|s| s.container_statuses)
                    .unwrap_or_default()
                    .iter()
                    .map(|c| i64::from(c.restart_count))
                    .sum();
                (p.metadata.name.unwrap_or_default(), restarts)
            })
            .collect())
    }

    /// Current replicas of each of the release's autoscalers.
    pub async fn autoscaled(&self) -> anyhow::Result<BTreeMap<String, i32>> {
        let api: Api<HorizontalPodAutoscaler> =
            Api::namespaced(self.client.clone(), &self.namespace);
        let listed = api
            .list(
                &ListParams::default()
                    .labels(&cluster_api::rollout::release_selector(&self.release)),
            )
            .await
            .context("listing the autoscalers")?;
        Ok(listed
            .items
            .into_iter()
            .map(|h| {
                (
                    h.metadata.name.unwrap_or_default(),
                    h.status.map(|s| s.current_replicas).unwrap_or_default(),
                )
            })
            .collect())
    }
}
