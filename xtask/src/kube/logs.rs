//! `cargo xtask logs` on a cluster: every pod of a service (or of both), each line prefixed with
//! its pod; with `--follow`, new pods and restarted containers are picked up as they appear.

use std::{collections::HashSet, time::Duration};

use anyhow::Context;
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client,
    api::{ListParams, LogParams},
};

use super::rollout::release_selector;

/// Which pods: the release's, of one component (`backend`, `frontend`) or all.
pub struct Selection<'a> {
    pub namespace: &'a str,
    pub release: &'a str,
    pub component: Option<&'a str>,
}

impl Selection<'_> {
    fn labels(&self) -> String {
        let mut labels = release_selector(self.release);
        if let Some(component) = self.component {
            labels.push_str(&format!(",app.kubernetes.io/component={component}"));
        }
        labels
    }
}

/// Prints the last `tail` lines of every selected container.
pub async fn print(client: &Client, selection: &Selection<'_>, tail: i64) -> anyhow::Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), selection.namespace);
    let listed = list(&pods, selection).await?;
    for (pod, container, _) in running_containers(&listed) {
        let params = LogParams {
            container: Some(container.clone()),
            tail_lines: Some(tail),
            ..LogParams::default()
        };
        let text = pods
            .logs(&pod, &params)
            .await
            .with_context(|| format!("reading the logs of {pod}/{container}"))?;
        for line in text.lines() {
            println!("[{pod}] {line}");
        }
    }
    Ok(())
}

/// Follows every selected container until Ctrl-C, starting each with its last `tail` lines;
/// a container that restarts (a new container ID) or a new pod is followed from its start.
pub async fn follow(client: &Client, selection: &Selection<'_>, tail: i64) -> anyhow::Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), selection.namespace);
    let mut followed: HashSet<String> = HashSet::new();
    let mut first_round = true;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let listed = list(&pods, selection).await?;
        for (pod, container, container_id) in running_containers(&listed) {
            if !followed.insert(container_id) {
                continue;
            }
            let params = LogParams {
                container: Some(container),
                follow: true,
                tail_lines: first_round.then_some(tail),
                ..LogParams::default()
            };
            let pods = pods.clone();
            tokio::spawn(async move {
                let Ok(stream) = pods.log_stream(&pod, &params).await else {
                    return;
                };
                let mut lines = stream.lines();
                while let Ok(Some(line)) = lines.try_next().await {
                    println!("[{pod}] {line}");
                }
            });
        }
        first_round = false;
        tokio::select! {
            _ = &mut stop => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

async fn list(pods: &Api<Pod>, selection: &Selection<'_>) -> anyhow::Result<Vec<Pod>> {
    let listed = pods
        .list(&ListParams::default().labels(&selection.labels()))
        .await
        .with_context(|| format!("listing the pods of {}", selection.release))?;
    if listed.items.is_empty() {
        eprintln!(
            "no pods of release {} in namespace {} (is it up? `cargo xtask status`)",
            selection.release, selection.namespace
        );
    }
    Ok(listed.items)
}

/// (pod, container, container ID) of every container that has started, so has logs.
fn running_containers(pods: &[Pod]) -> Vec<(String, String, String)> {
    pods.iter()
        .flat_map(|pod| {
            let name = pod.metadata.name.clone().unwrap_or_default();
            pod.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
                .filter_map(move |c| {
                    let id = c.container_id.clone()?;
                    Some((name.clone(), c.name.clone(), id))
                })
        })
        .collect()
}
