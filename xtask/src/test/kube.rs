//! The `kube` suite: the Kubernetes lifecycle on a real cluster (in CI, `../shared/kube-lab`),
//! through the same commands users type. For each database mode (SQLite; external PostgreSQL
//! with two replicas and the migration hook): `up --target kube`, the end-to-end scenarios
//! through the frontend's NodePort, `status` and `logs`, `helm test`, an `up` with no change
//! (nothing may roll), a configuration upgrade that rolls every pod with the data kept, then
//! `test-e2e --rolling` (each service replaced by a new image under steady traffic: with two
//! replicas not one request may fail; with SQLite's one replica the outage is bounded and
//! reported) and, with two backends, `--chaos`; and `down --purge` leaving no release,
//! namespace or volume.
//!
//! The cluster is `KUBECONFIG`'s; the registry it pulls from is `KUBE_TEST_REGISTRY`
//! (default `localhost:5000`); in PostgreSQL mode the pods reach a throwaway server on this
//! machine at `KUBE_TEST_HOST_ADDRESS` (default `10.245.0.1`, the lab's host address), trusted
//! from `KUBE_TEST_POD_NETWORK` (default `10.244.0.0/16`).
//!
//! A cluster may still be starting when the run begins: CI builds and starts kube-lab in the
//! background while the other suites run. `KUBE_TEST_STARTUP_STATUS` then names the file that
//! start-up writes when it ends (its exit status on the first line, on failure its log's tail
//! below), and the suite waits for it (at most [`STARTUP_WITHIN`]) before connecting.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use k8s_openapi::{
    ByteString,
    api::{
        apps::v1::Deployment,
        core::v1::{Namespace, PersistentVolume, Secret},
    },
};
use kube::{Api, Client, api::ListParams, api::PostParams};
use xshell::{Shell, cmd};

use crate::{
    e2e::{self, client},
    helm::release::{Cluster, Engine, Release},
    kube as cluster_api, poll,
    postgres::{Access, Throwaway},
    project::{self, Outcome},
    runtime::block_on,
    up::state::{STACK_FILE_VARIABLE, Stack},
};

const RELEASE: &str = "todo-chatbot";
/// The UI's node port left to the cluster (a free one): the profile's fixed 30080 may belong to
/// a stack someone runs on the same cluster. `up` records the port it got.
const FREE_NODE_PORT: [&str; 2] = ["--set", "frontend.service.nodePort=null"];
const TIMEOUT_SECONDS: u64 = 300;
/// The variable naming the status file of a cluster start-up still under way, if any.
const STARTUP_STATUS_VARIABLE: &str = "KUBE_TEST_STARTUP_STATUS";
/// How long the suite waits for that start-up: a cold kube-lab builds Kubernetes from source.
const STARTUP_WITHIN: Duration = Duration::from_secs(30 * 60);

/// What every step needs.
struct Bench {
    client: Client,
    registry: String,
    work: PathBuf,
}

pub fn suite(sh: &Shell) -> anyhow::Result<Outcome> {
    if let Some(status_file) = std::env::var_os(STARTUP_STATUS_VARIABLE) {
        await_startup(&PathBuf::from(status_file))?;
    }
    let registry = std::env::var("KUBE_TEST_REGISTRY").unwrap_or_else(|_| "localhost:5000".into());
    let connected = block_on(async {
        tokio::time::timeout(
            Duration::from_secs(15),
            cluster_api::connect(&Cluster::default()),
        )
        .await
        .context("the cluster did not answer within 15 s")?
    })?;
    let client = match connected {
        Ok((client, _)) => client,
        Err(err) => {
            return project::skip_or_fail(
                "kube",
                &format!(
                    "no Kubernetes cluster ({err:#}); start one with `../shared/kube-lab/kube-lab up` \
                     and `export KUBECONFIG=$(../shared/kube-lab/kube-lab kubeconfig)`"
                ),
            );
        }
    };
    if let Err(err) = block_on(registry_answers(&registry))? {
        return project::skip_or_fail(
            "kube",
            &format!("the registry {registry} does not answer ({err:#}); set KUBE_TEST_REGISTRY"),
        );
    }
    let work = project::root().join("target").join("test-kube");
    std::fs::create_dir_all(&work).context("creating target/test-kube")?;
    let bench = Bench {
        client,
        registry,
        work,
    };
    sqlite_mode(sh, &bench)?;
    postgres_mode(sh, &bench)?;
    Ok(Outcome::Passed)
}

/// Waits until the cluster's start-up has written `status_file`; its failure fails the suite
/// with the status and the log's tail the file holds.
fn await_startup(status_file: &std::path::Path) -> anyhow::Result<()> {
    let started = Instant::now();
    println!(
        "==> kube: waiting for the cluster's start-up to write {} ({STARTUP_STATUS_VARIABLE})",
        status_file.display()
    );
    let what = format!("the cluster's start-up to write {}", status_file.display());
    let record = block_on(poll::until(STARTUP_WITHIN, &what, || async {
        match std::fs::read_to_string(status_file) {
            // The writer may be between creating the file and writing its line.
            Ok(text) if text.ends_with('\n') => Ok(Some(text)),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => {
                Err(anyhow::Error::new(err).context(format!("reading {}", status_file.display())))
            }
        }
    }))??;
    startup_outcome(&record)?;
    println!(
        "==> kube: the cluster is up (waited {:.0}s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads a start-up status record: `0` on the first line is success; anything else is the
/// failure, reported with the rest of the record (the start-up log's tail).
fn startup_outcome(record: &str) -> anyhow::Result<()> {
    let (status, log) = record.split_once('\n').unwrap_or((record, ""));
    match status.trim().parse::<i32>() {
        Ok(0) => Ok(()),
        Ok(code) => {
            bail!("the cluster's start-up failed with exit status {code}; its log ends:\n{log}")
        }
        Err(_) => bail!(
            "the start-up status record should begin with an exit status, not {status:?} \
             ({STARTUP_STATUS_VARIABLE})"
        ),
    }
}

/// The one-node profile: SQLite on a volume claim, one backend replica (Recreate).
fn sqlite_mode(sh: &Shell, bench: &Bench) -> anyhow::Result<()> {
    let namespace = "todo-kube-sqlite";
    println!("==> kube: SQLite profile in namespace {namespace}");
    purge_release(sh, namespace)?;
    // With the Prometheus `up --monitoring` runs next to the release (checked after the first
    // `up`; its alerts firing is the `monitoring` suite's part, on docker).
    lifecycle(
        sh,
        bench,
        namespace,
        &[FREE_NODE_PORT[0], FREE_NODE_PORT[1], "--monitoring"],
        Upgrade::WithOutage,
    )
}

/// The production profile against a PostgreSQL server on this machine: the migration hook
/// Job, two replicas of each service (the autoscalers' minimum), a Secret made out of band.
fn postgres_mode(sh: &Shell, bench: &Bench) -> anyhow::Result<()> {
    let namespace = "todo-kube-postgres";
    println!("==> kube: production profile with external PostgreSQL in namespace {namespace}");
    purge_release(sh, namespace)?;
    let host = std::env::var("KUBE_TEST_HOST_ADDRESS").unwrap_or_else(|_| "10.245.0.1".into());
    let pods = std::env::var("KUBE_TEST_POD_NETWORK").unwrap_or_else(|_| "10.244.0.0/16".into());
    let database = Throwaway::start(
        &bench.work,
        &Access {
            listen: vec![host],
            trusted_networks: vec![pods],
        },
    )?;
    database.create_database("todo")?;
    let url = database.url("todo", "postgres");
    block_on(create_secret(&bench.client, namespace, &url))??;
    let production = crate::catalog::chart_dir().join(crate::catalog::PRODUCTION_PROFILE);
    let production = production.display().to_string();
    let args = [
        "--values",
        production.as_str(),
        // No ingress controller on the lab: the UI on a NodePort of its own.
        "--set",
        "ingress.enabled=false",
        "--set",
        "frontend.service.type=NodePort",
        FREE_NODE_PORT[0],
        FREE_NODE_PORT[1],
    ];
    lifecycle(sh, bench, namespace, &args, Upgrade::ZeroDowntime)
}

/// What users may see while a release is upgraded (`test-e2e --rolling` holds the stack to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// Two or more replicas, rolling: not one request may fail; `--chaos` runs too.
    ZeroDowntime,
    /// One backend replica replaced with Recreate (SQLite): the backend is away for a few
    /// seconds, answered with quick 5xx; `test-e2e` reports how long.
    WithOutage,
}

/// The whole lifecycle of one release in `namespace`, `extra` passed to every `up`; starts from
/// a clean namespace and, when a step fails, removes what it made before reporting the failure.
fn lifecycle(
    sh: &Shell,
    bench: &Bench,
    namespace: &str,
    extra: &[&str],
    upgrade: Upgrade,
) -> anyhow::Result<()> {
    let result = lifecycle_steps(sh, bench, namespace, extra, upgrade);
    if result.is_err() {
        let _ = purge_release(sh, namespace);
    }
    result
}

fn lifecycle_steps(
    sh: &Shell,
    bench: &Bench,
    namespace: &str,
    extra: &[&str],
    upgrade: Upgrade,
) -> anyhow::Result<()> {
    let stack_file = bench.work.join(format!("{namespace}.toml"));
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    let registry = &bench.registry;
    let timeout = TIMEOUT_SECONDS.to_string();
    let up = |more: &[&str]| -> anyhow::Result<f64> {
        let started = Instant::now();
        cmd!(sh, "{xtask} up --target kube --registry {registry} --namespace {namespace} --release {RELEASE} --timeout {timeout} {extra...} {more...}")
            .env(STACK_FILE_VARIABLE, &stack_file)
            .run()
            .with_context(|| format!("cargo xtask up --target kube (namespace {namespace})"))?;
        Ok(started.elapsed().as_secs_f64())
    };

    let seconds = up(&[])?;
    println!("    up: {seconds:.1}s");
    let stack = Stack::load_from(&stack_file)?.context("up recorded no stack")?;
    let ui = stack
        .ui_url
        .context("up recorded no UI URL (is the frontend a NodePort?)")?;
    if extra.contains(&"--monitoring") {
        let urls = stack
            .monitoring
            .as_ref()
            .context("up --monitoring recorded no Prometheus")?;
        check_prometheus(sh, namespace, &urls.prometheus, &ui)?;
    }
    // The user's second command: the functional scenarios, and the metrics of both services
    // (the backend's read through the API server's pod proxy).
    let functional_report = bench.work.join(format!("{namespace}-functional.json"));
    let _ = std::fs::remove_file(&functional_report);
    cmd!(
        sh,
        "{xtask} test-e2e --target kube --report {functional_report}"
    )
    .env(STACK_FILE_VARIABLE, &stack_file)
    .run()
    .with_context(|| {
        format!(
            "cargo xtask test-e2e --target kube{}",
            e2e::failures_in_report(&functional_report)
        )
    })?;

    let status = cmd!(sh, "{xtask} status")
        .env(STACK_FILE_VARIABLE, &stack_file)
        .read()
        .context("cargo xtask status")?;
    println!("{status}");
    ensure!(
        status.contains("rolled out") && status.contains(&format!("UI: {ui}")),
        "status does not show the rolled-out release and its UI"
    );
    let logs = cmd!(sh, "{xtask} logs backend --tail 20")
        .env(STACK_FILE_VARIABLE, &stack_file)
        .read()
        .context("cargo xtask logs backend")?;
    ensure!(
        logs.lines()
            .any(|l| l.starts_with("[todo-chatbot-backend-") && l.contains("{\"")),
        "`logs backend` printed no JSON line of a backend pod:\n{logs}"
    );
    println!(
        "    status and logs: ok ({} log lines)",
        logs.lines().count()
    );

    let release = Release {
        name: RELEASE.to_owned(),
        namespace: namespace.to_owned(),
        cluster: Cluster::default(),
        chart: crate::catalog::chart_dir(),
        values_files: Vec::new(),
        set: Vec::new(),
        set_string: Vec::new(),
        timeout: Duration::from_secs(TIMEOUT_SECONDS),
    };
    let test_logs = release.test(sh, &Engine::detect()?)?;
    println!("    helm test: passed");
    for line in test_logs.lines().filter(|l| !l.trim().is_empty()) {
        println!("      {line}");
    }

    let stack_client = client::Stack::new(&ui)?;
    let (marker, task) = block_on(e2e::functional::seed_marker(&stack_client))??;
    let before = block_on(generations(&bench.client, namespace))??;
    let seconds = up(&[])?;
    let after = block_on(generations(&bench.client, namespace))??;
    ensure!(
        before == after,
        "an `up` with no change rolled something: generations {before:?} -> {after:?}"
    );
    println!("    up with no change: {seconds:.1}s, nothing rolled");

    // A change to both services' configuration rolls every pod (new checksums), data kept.
    let seconds = up(&["--set", "config.logLevel=debug"])?;
    let upgraded = block_on(generations(&bench.client, namespace))??;
    ensure!(
        upgraded
            .iter()
            .all(|(name, generation)| after.get(name) < Some(generation)),
        "the upgrade did not roll every Deployment: {after:?} -> {upgraded:?}"
    );
    block_on(e2e::functional::check_marker(&stack_client, &marker, task))??;
    println!("    upgrade of the configuration (every pod replaced): {seconds:.1}s, data kept");

    // The user's second command on this stack: each service replaced by a new image under
    // steady traffic (and, with two backends, one killed without warning).
    let report = bench.work.join(format!("{namespace}-e2e.json"));
    let _ = std::fs::remove_file(&report);
    let modes: &[&str] = match upgrade {
        Upgrade::ZeroDowntime => &["--rolling", "--chaos"],
        Upgrade::WithOutage => &["--rolling"],
    };
    cmd!(
        sh,
        "{xtask} test-e2e --target kube --report {report} {modes...}"
    )
    .env(STACK_FILE_VARIABLE, &stack_file)
    .run()
    .with_context(|| {
        format!(
            "cargo xtask test-e2e {}{}",
            modes.join(" "),
            e2e::failures_in_report(&report)
        )
    })?;
    block_on(e2e::functional::check_marker(&stack_client, &marker, task))??;

    let started = Instant::now();
    cmd!(sh, "{xtask} down --purge")
        .env(STACK_FILE_VARIABLE, &stack_file)
        .run()
        .context("cargo xtask down --purge")?;
    block_on(assert_gone(&bench.client, namespace))??;
    println!(
        "    down --purge: {:.1}s; no release, namespace or volume left",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&stack_file);
    Ok(())
}

/// `down --purge` of the suite's release: before each mode (an interrupted run may have left
/// it) and after a failed step.
fn purge_release(sh: &Shell, namespace: &str) -> anyhow::Result<()> {
    let xtask = std::env::current_exe().context("finding the xtask binary")?;
    cmd!(
        sh,
        "{xtask} down --purge --target kube --namespace {namespace} --release {RELEASE}"
    )
    .run()
    .with_context(|| format!("removing what earlier runs left in {namespace}"))
}

/// `metadata.generation` of each Deployment in `namespace`.
/// The release's Deployments (not the Prometheus of `--monitoring`) and their generations.
async fn generations(client: &Client, namespace: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let listed = api
        .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={RELEASE}")))
        .await
        .context("listing the Deployments")?;
    Ok(listed
        .items
        .into_iter()
        .map(|d| {
            (
                d.metadata.name.unwrap_or_default(),
                d.metadata.generation.unwrap_or_default(),
            )
        })
        .collect())
}

/// The Prometheus of `up --monitoring` on the cluster: the chart's rule groups loaded, both
/// services' pods scraped `up` within 60 s, and the frontend's dashboard drawn from it.
fn check_prometheus(sh: &Shell, namespace: &str, url: &str, ui: &str) -> anyhow::Result<()> {
    let rules = crate::monitoring::rules::from_chart_as(sh, RELEASE, namespace)?;
    let prometheus = crate::monitoring::api::Prometheus::new(url)?;
    let started = Instant::now();
    let what = "the chart's rule groups and both services' targets up";
    let (groups, targets) = block_on(poll::until(Duration::from_secs(60), what, || async {
        let groups = prometheus.rule_groups().await?;
        let targets = prometheus.targets().await?;
        let jobs_up = [&rules.backend_job, &rules.frontend_job]
            .iter()
            .all(|job| targets.iter().any(|t| &&t.job == job && t.health == "up"));
        if jobs_up && groups.len() == rules.group_names().len() {
            return Ok(Some((groups, targets)));
        }
        let states: Vec<String> = targets
            .iter()
            .map(|t| format!("{} {} {}", t.job, t.health, t.last_error))
            .collect();
        bail!(
            "Prometheus at {url}: rule groups {groups:?} (the chart has {:?}), targets {states:?}",
            rules.group_names()
        )
    }))??;
    let dashboard = format!("{ui}/ops/dashboard");
    let page = block_on(async {
        let response = reqwest::get(&dashboard).await?;
        anyhow::ensure!(
            response.status() == 200,
            "{dashboard} answered {}",
            response.status()
        );
        anyhow::Ok(response.text().await?)
    })??;
    ensure!(
        page.contains("data-state=\"data\""),
        "{dashboard} drew no panel with data"
    );
    println!(
        "    Prometheus on the cluster: {} rule groups, {} targets up after {:.1}s; the dashboard \
         draws from it",
        groups.len(),
        targets.iter().filter(|t| t.health == "up").count(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The namespace is gone, and no persistent volume still belongs to a claim in it (the lab's
/// reclaimer deletes released volumes within seconds).
async fn assert_gone(client: &Client, namespace: &str) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    ensure!(
        namespaces.get_opt(namespace).await?.is_none(),
        "namespace {namespace} is still there after down --purge"
    );
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let what = format!("the volumes of {namespace} to be released");
    poll::until(Duration::from_secs(60), &what, || async {
        let left: Vec<String> = volumes
            .list(&ListParams::default())
            .await
            .context("listing the persistent volumes")?
            .items
            .into_iter()
            .filter(|pv| {
                pv.spec
                    .as_ref()
                    .and_then(|s| s.claim_ref.as_ref())
                    .and_then(|c| c.namespace.as_deref())
                    == Some(namespace)
            })
            .filter_map(|pv| pv.metadata.name)
            .collect();
        if left.is_empty() {
            return Ok(Some(()));
        }
        bail!("volumes of {namespace} left after down --purge: {left:?}")
    })
    .await
}

/// The Secret the production profile expects to find (`secrets.existingSecret`), made the way
/// its users make it: out of band, with a fresh signing key and the database URL.
async fn create_secret(client: &Client, namespace: &str, database_url: &str) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if namespaces.get_opt(namespace).await?.is_none() {
        let object: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": namespace},
        }))?;
        namespaces
            .create(&PostParams::default(), &object)
            .await
            .with_context(|| format!("creating namespace {namespace}"))?;
    }
    let key = client::unique().repeat(3);
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("todo-chatbot-secrets".into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        data: Some(
            [
                ("better-auth-secret", key.as_str()),
                ("database-url", database_url),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), ByteString(v.as_bytes().to_vec())))
            .collect(),
        ),
        ..Default::default()
    };
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let _ = secrets
        .delete("todo-chatbot-secrets", &Default::default())
        .await;
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .context("creating the Secret todo-chatbot-secrets")?;
    Ok(())
}

async fn registry_answers(registry: &str) -> anyhow::Result<()> {
    let url = format!("http://{registry}/v2/");
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_zero_status_is_a_started_cluster() {
        startup_outcome("0\n").unwrap();
    }

    #[test]
    fn a_failed_start_up_is_reported_with_its_status_and_log() {
        let err = startup_outcome("2\nkubelet: node never became Ready\n").unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("exit status 2"), "{message}");
        assert!(message.contains("node never became Ready"), "{message}");
    }

    #[test]
    fn a_record_without_a_status_is_refused() {
        let err = startup_outcome("starting\n").unwrap_err();
        assert!(format!("{err:#}").contains("\"starting\""), "{err:#}");
    }

    #[test]
    fn the_wait_ends_when_the_status_line_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kube-lab.status");
        let writer = {
            let file = file.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(1500));
                std::fs::write(&file, "0\n").unwrap();
            })
        };
        await_startup(&file).unwrap();
        writer.join().unwrap();
    }
}
