//! `up --target kube`: any cluster a kubeconfig reaches (kind, k3d, a cloud cluster, a local
//! lab). The images are built on the local Docker Engine and pushed to `--registry`, then the
//! chart is installed pointing at them (see `cluster`). `down` for both cluster targets.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use xshell::{Shell, cmd};

use super::{Resolved, cluster, state::ReleaseInputs};
use crate::{
    helm::{self, release::Release},
    images, kube as cluster_api,
    runtime::block_on,
};

pub struct Options<'a> {
    pub registry: &'a str,
    pub values: &'a [PathBuf],
    pub set: &'a [String],
    pub build_profile: images::fastpath::BuildProfile,
    /// A Prometheus next to the release (`--monitoring`).
    pub monitoring: bool,
}

pub fn up(
    sh: &Shell,
    placement: &Resolved,
    options: Options<'_>,
    timeout: Duration,
) -> anyhow::Result<cluster::Deployed> {
    // Fail on an unreachable cluster before spending minutes on a build.
    block_on(cluster_api::connect(&placement.cluster))??;
    let registry = options.registry.trim_end_matches('/');
    let tag = images::current_tag(sh)?;
    let profile = options.build_profile.name();
    println!(
        "==> building the images (tag {tag}, profile {profile}) and pushing them to {registry}"
    );
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    cmd!(
        sh,
        "{xtask} images --registry {registry} --tag {tag} --build-profile {profile} --push"
    )
    .run()
    .context("building and pushing the images")?;
    // Pinned by digest: the nodes run exactly what was pushed, whatever the tag points at later.
    let mut pinned = vec![format!("image.tag={tag}")];
    pinned.extend(block_on(pushed_digests(registry, &tag))??);
    let release = release_for(
        placement,
        options.values,
        [format!("image.registry={registry}")]
            .into_iter()
            .chain(cluster::monitoring_values(placement, options.monitoring))
            .chain(options.set.iter().cloned())
            .collect(),
        pinned,
        timeout,
    );
    let ui_url = cluster::deploy(sh, &release, None, timeout)?;
    let monitoring = if options.monitoring {
        let docker = block_on(crate::engine::connect(None))??;
        Some(cluster::start_monitoring(
            sh,
            &docker,
            crate::monitoring::cluster::Source::Registry(registry),
            placement,
            None,
            timeout,
        )?)
    } else {
        None
    };
    Ok(cluster::Deployed {
        ui_url,
        inputs: ReleaseInputs::of(&release, Some(registry)),
        monitoring,
    })
}

/// `<binary>.image.digest=sha256:…` for each service (the chart's values are named after the
/// binaries): the registry digest of `registry/image:tag` as the engine recorded it when pushing.
async fn pushed_digests(registry: &str, tag: &str) -> anyhow::Result<Vec<String>> {
    let docker = crate::engine::connect(None).await?;
    let mut pinned = Vec::new();
    for service in &crate::catalog::SERVICES {
        let digest = pushed_digest(&docker, registry, service.image, tag).await?;
        pinned.push(format!("{}.image.digest={digest}", service.binary));
    }
    Ok(pinned)
}

/// The registry digest of `registry/image:tag` as the engine recorded it when pushing.
pub async fn pushed_digest(
    docker: &bollard::Docker,
    registry: &str,
    image: &str,
    tag: &str,
) -> anyhow::Result<String> {
    let reference = format!("{registry}/{image}:{tag}");
    let inspected = docker
        .inspect_image(&reference)
        .await
        .with_context(|| format!("inspecting {reference}"))?;
    let prefix = format!("{registry}/{image}@");
    inspected
        .repo_digests
        .unwrap_or_default()
        .iter()
        .find_map(|d| d.strip_prefix(&prefix).map(str::to_owned))
        .with_context(|| format!("{reference} has no digest from {registry}: was it pushed?"))
}

/// The release `up` installs: the given values files (default: the one-node profile), the
/// given `--set`s, and the image values that must stay strings (tag, digests).
pub fn release_for(
    placement: &Resolved,
    values: &[PathBuf],
    set: Vec<String>,
    set_string: Vec<String>,
    timeout: Duration,
) -> Release {
    let values_files = if values.is_empty() {
        vec![crate::catalog::chart_dir().join(crate::catalog::MINIKUBE_PROFILE)]
    } else {
        values.to_vec()
    };
    Release {
        name: placement.release.clone(),
        namespace: placement.namespace.clone(),
        cluster: placement.cluster.clone(),
        chart: crate::catalog::chart_dir(),
        values_files,
        set,
        set_string,
        timeout,
    }
}

/// `helm uninstall`, then what Helm leaves (failed hooks, test pods); with `purge` also the
/// volume claims and the namespace.
pub fn down(
    sh: &Shell,
    placement: &Resolved,
    purge: bool,
    timeout: Duration,
) -> anyhow::Result<()> {
    let engine = helm::release::Engine::detect()?;
    let release = super::release_of(placement, timeout);
    let (client, _) = block_on(cluster_api::connect(&placement.cluster))??;
    match release.status(sh, &engine)? {
        Some(status) => {
            println!(
                "==> helm uninstall {} --namespace {} (revision {})",
                release.name, release.namespace, status.revision
            );
            release.uninstall(sh, &engine)?;
        }
        None => println!(
            "==> release {} is not installed in namespace {}",
            release.name, release.namespace
        ),
    }
    let mut deleted = block_on(crate::monitoring::cluster::delete(
        &client,
        &placement.namespace,
        &placement.release,
    ))??;
    deleted.extend(block_on(cluster_api::cleanup::leftovers(
        &client,
        &placement.namespace,
        &placement.release,
        purge,
        timeout,
    ))??);
    for object in &deleted {
        println!("    deleted {object}");
    }
    if !purge {
        println!(
            "    kept the data (the SQLite volume claim, if any): `cargo xtask down --purge` \
             deletes it and the namespace"
        );
    }
    Ok(())
}
