//! The part of `up` that Minikube and any other cluster share: `helm upgrade --install`, the
//! rollout wait through kube-rs (rolling back an upgrade that does not roll out), and the
//! release's status at the end.

use std::time::{Duration, Instant};

use anyhow::bail;
use xshell::Shell;

use super::state::ReleaseInputs;
use crate::{
    helm::release::{Engine, Release},
    kube::{self, rollout, status},
    runtime::block_on,
};

/// What `up` on a cluster (Minikube or any other) leaves for the stack record.
pub struct Deployed {
    /// The UI's URL, when the frontend has a NodePort this machine reaches.
    pub ui_url: Option<String>,
    /// What the release was installed from, for `test-e2e --rolling`'s upgrades.
    pub inputs: ReleaseInputs,
    /// Where Prometheus and Alertmanager answer, with `--monitoring`.
    pub monitoring: Option<crate::monitoring::Urls>,
}

/// Installs or upgrades `release` and waits (up to `timeout`) until every Deployment has
/// rolled out. Returns the UI's URL when the frontend has a NodePort on `node_host` (by
/// default, where [`kube::node_host`] finds the nodes).
pub fn deploy(
    sh: &Shell,
    release: &Release,
    node_host: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<Option<String>> {
    let engine = Engine::detect()?;
    let (client, server) = block_on(kube::connect(&release.cluster))??;
    let node_host = match node_host {
        Some(host) => host.to_owned(),
        None => block_on(kube::node_host(&client, &server))?,
    };
    let previous = release.status(sh, &engine)?;
    println!(
        "==> helm upgrade --install {} --namespace {} ({}{})",
        release.name,
        release.namespace,
        engine.describe(),
        previous
            .as_ref()
            .map(|p| format!("; now at revision {}, {}", p.revision, p.status))
            .unwrap_or_default()
    );
    let started = Instant::now();
    let installed = match release.upgrade_install(sh, &engine) {
        Ok(installed) => installed,
        Err(err) => {
            let hooks = block_on(rollout::explain_failed_hooks(
                &client,
                &release.namespace,
                &release.name,
            ))?;
            bail!("{err:#}\n{hooks}");
        }
    };
    println!(
        "    revision {} ({}) in {:.1}s",
        installed.revision,
        installed.status,
        started.elapsed().as_secs_f64()
    );

    println!(
        "==> waiting for the rollouts (up to {}s)",
        timeout.as_secs()
    );
    let started = Instant::now();
    let waited = block_on(rollout::wait(
        &client,
        &release.namespace,
        &release.name,
        rollout::Timing::with_timeout(timeout),
    ))?;
    if let Err(err) = waited {
        let Some(previous) = previous.filter(|p| p.status == "deployed") else {
            return Err(err.context(format!(
                "release {} did not roll out; `cargo xtask status` shows it, `cargo xtask down` \
                 removes it",
                release.name
            )));
        };
        println!(
            "==> the upgrade did not roll out: rolling back to revision {}",
            previous.revision
        );
        release.rollback(sh, &engine, previous.revision)?;
        let back = block_on(rollout::wait(
            &client,
            &release.namespace,
            &release.name,
            rollout::Timing::with_timeout(timeout),
        ))?;
        let serving = match back {
            Ok(()) => "rolled out again".to_owned(),
            Err(again) => format!("but not ready either ({again:#})"),
        };
        return Err(err.context(format!(
            "revision {} did not roll out; release {} is back at revision {}, {serving}",
            installed.revision, release.name, previous.revision
        )));
    }
    println!("    rolled out in {:.1}s", started.elapsed().as_secs_f64());
    println!();
    block_on(status::print(
        &client,
        &release.namespace,
        &release.name,
        &node_host,
    ))?
}

/// The release's values for `--monitoring`: the frontend's dashboard reads the Prometheus that
/// [`start_monitoring`] runs next to it.
pub fn monitoring_values(placement: &super::Resolved, monitoring: bool) -> Option<String> {
    monitoring.then(|| {
        format!(
            "metrics.prometheusUrl={}",
            crate::monitoring::cluster::in_cluster_url(&placement.release)
        )
    })
}

/// `--monitoring` on a cluster, once the release is installed: Prometheus built on `docker`,
/// run next to the release, and ready on its NodePort (at `node_host`, else where
/// [`kube::node_host`] finds the nodes).
pub fn start_monitoring(
    sh: &Shell,
    docker: &bollard::Docker,
    source: crate::monitoring::cluster::Source<'_>,
    placement: &super::Resolved,
    node_host: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<crate::monitoring::Urls> {
    let rules =
        crate::monitoring::rules::from_chart_as(sh, &placement.release, &placement.namespace)?;
    let (client, server) = block_on(kube::connect(&placement.cluster))??;
    let node_host = match node_host {
        Some(host) => host.to_owned(),
        None => block_on(kube::node_host(&client, &server))?,
    };
    block_on(crate::monitoring::cluster::start(
        sh,
        docker,
        source,
        &client,
        crate::monitoring::cluster::Placement {
            release: &placement.release,
            namespace: &placement.namespace,
            node_host: &node_host,
        },
        &rules,
        timeout,
    ))?
}
