//! What `helm uninstall` leaves behind, removed by `cargo xtask down`: hook objects that failed
//! (a migration Job and its pods), test pods, and with `--purge` the data (volume claims) and
//! the namespace the release was installed into.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::{
    batch::v1::Job,
    core::v1::{Namespace, PersistentVolumeClaim, Pod, Secret},
};
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams, PropagationPolicy},
};
use serde::de::DeserializeOwned;

use super::rollout::release_selector;

/// Namespaces that `--purge` never deletes.
const SHARED_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Deletes the release's leftovers; with `purge`, also its volume claims and its namespace
/// (unless it is a shared one), waiting up to `timeout` for the namespace to be gone.
/// Returns what it deleted, for the report.
pub async fn leftovers(
    client: &Client,
    namespace: &str,
    release: &str,
    purge: bool,
    timeout: Duration,
) -> anyhow::Result<Vec<String>> {
    let selector = ListParams::default().labels(&release_selector(release));
    let mut deleted = Vec::new();
    deleted.extend(delete_all::<Job>(client, namespace, &selector, "Job").await?);
    deleted.extend(delete_all::<Pod>(client, namespace, &selector, "Pod").await?);
    deleted.extend(delete_all::<Secret>(client, namespace, &selector, "Secret").await?);
    if !purge {
        return Ok(deleted);
    }
    deleted.extend(
        delete_all::<PersistentVolumeClaim>(client, namespace, &selector, "PersistentVolumeClaim")
            .await?,
    );
    if SHARED_NAMESPACES.contains(&namespace) {
        return Ok(deleted);
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces.delete(namespace, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(deleted),
        Err(err) => return Err(err).with_context(|| format!("deleting namespace {namespace}")),
    }
    let started = Instant::now();
    while namespaces
        .get_opt(namespace)
        .await
        .with_context(|| format!("reading namespace {namespace}"))?
        .is_some()
    {
        if started.elapsed() > timeout {
            bail!(
                "namespace {namespace} is still terminating after {}s; `kubectl get all -n \
                 {namespace}` shows what holds it",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    deleted.push(format!("Namespace/{namespace}"));
    Ok(deleted)
}

async fn delete_all<K>(
    client: &Client,
    namespace: &str,
    selector: &ListParams,
    kind: &str,
) -> anyhow::Result<Vec<String>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let listed = api
        .list(selector)
        .await
        .with_context(|| format!("listing the {kind}s left in {namespace}"))?;
    let background = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    let mut deleted = Vec::new();
    // Objects a controller owns (a Deployment's pods, a Job's pods) go with their owner.
    let unowned = listed
        .items
        .into_iter()
        .filter(|o| o.meta().owner_references.as_ref().is_none_or(Vec::is_empty));
    for object in unowned {
        let name = object.meta().name.clone().unwrap_or_default();
        match api.delete(&name, &background).await {
            Ok(_) => deleted.push(format!("{kind}/{name}")),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => return Err(err).with_context(|| format!("deleting {kind}/{name}")),
        }
    }
    Ok(deleted)
}
