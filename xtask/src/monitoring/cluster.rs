//! `up --monitoring` on a cluster without prometheus-operator: the same Prometheus image, pushed
//! where the cluster pulls from, run as a Deployment in the release's namespace with the chart's
//! rules from a ConfigMap. It finds the release's pods through two headless Services with the
//! chart's own selectors (DNS discovery: Debian's Prometheus is built without the Kubernetes
//! discovery, and DNS needs no access to the API). A NodePort Service makes it reachable from
//! this machine; the frontend's dashboard reaches it by its Service name. `down` deletes it.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{ConfigMap, Service},
};
use kube::{
    Api, Client,
    api::{DeleteParams, Patch, PatchParams},
};
use serde_json::{Value, json};

use super::{PROMETHEUS_PORT, SCRAPE_INTERVAL_SECONDS, rules::ChartRules};

/// The field manager of the server-side applies.
const MANAGER: &str = "cargo-xtask-monitoring";

/// The name of every object: `<release>-prometheus`.
pub fn name(release: &str) -> String {
    format!("{release}-prometheus")
}

/// The URL the frontend's dashboard uses (`metrics.prometheusUrl`).
pub fn in_cluster_url(release: &str) -> String {
    format!("http://{}:{PROMETHEUS_PORT}", name(release))
}

fn labels(release: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/part-of": release,
        "app.kubernetes.io/managed-by": MANAGER,
    })
}

/// The headless Service whose DNS name lists the pods of `component`.
fn pods_service(release: &str, component: &str) -> String {
    format!("{}-{component}-pods", name(release))
}

/// The two scraped components: name, port, the chart's Service name (the job) and selector.
fn components(rules: &ChartRules) -> [(&'static str, u16, &str, &Value); 2] {
    let [backend, frontend] = &crate::catalog::SERVICES;
    [
        (
            backend.binary,
            backend.port,
            rules.backend_job.as_str(),
            &rules.backend_selector,
        ),
        (
            frontend.binary,
            frontend.port,
            rules.frontend_job.as_str(),
            &rules.frontend_selector,
        ),
    ]
}

/// `prometheus.yml` for the cluster: each component's pods (every address of its headless
/// Service, ready or not, so a failing pod is seen failing), labelled as a ServiceMonitor would
/// label them (job = the chart's Service name) with `pod` = the pod's address.
pub fn config(rules: &ChartRules, release: &str) -> String {
    let interval = format!("{SCRAPE_INTERVAL_SECONDS}s");
    let jobs: Vec<Value> = components(rules)
        .iter()
        .map(|(component, port, job, _)| {
            json!({
                "job_name": job,
                "dns_sd_configs": [{
                    "names": [format!("{}.{}.svc", pods_service(release, component), rules.namespace)],
                    "type": "A",
                    "port": port,
                    "refresh_interval": interval,
                }],
                "relabel_configs": [
                    {"target_label": "namespace", "replacement": rules.namespace},
                    {"source_labels": ["__address__"], "target_label": "pod"},
                    {"target_label": "container", "replacement": component},
                ],
            })
        })
        .collect();
    super::config::pretty(&super::config::with_jobs(jobs))
}

/// Applies the objects (server-side apply: a second `up` updates them in place) running
/// `image` in `namespace`; the Deployment restarts when the configuration changes.
pub async fn apply(
    client: &Client,
    namespace: &str,
    release: &str,
    image: &str,
    rules: &ChartRules,
) -> anyhow::Result<()> {
    let name = name(release);
    let labels = labels(release);
    let prometheus_yml = config(rules, release);
    let rules_yml = super::config::rules(rules);
    let checksum =
        crate::images::tags::hex_digest(format!("{prometheus_yml}{rules_yml}").as_bytes());
    let params = PatchParams::apply(MANAGER).force();
    for (component, port, _, selector) in components(rules) {
        let pods = pods_service(release, component);
        let headless = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": pods, "namespace": namespace, "labels": labels},
            "spec": {
                "clusterIP": "None",
                "publishNotReadyAddresses": true,
                "selector": selector,
                "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
            },
        });
        Api::<Service>::namespaced(client.clone(), namespace)
            .patch(&pods, &params, &Patch::Apply(headless))
            .await
            .with_context(|| format!("applying the Service {pods}"))?;
    }
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"prometheus.yml": prometheus_yml, "rules.yml": rules_yml},
    });
    Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .patch(&name, &params, &Patch::Apply(config_map))
        .await
        .with_context(|| format!("applying the ConfigMap {name}"))?;
    let id = super::image::USER_ID;
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": {"checksum/config": checksum}},
                "spec": {
                    "automountServiceAccountToken": false,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": id, "runAsGroup": id, "fsGroup": id},
                    "containers": [{
                        "name": "prometheus",
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "args": [
                            format!("--config.file={}", super::config::PROMETHEUS_CONFIG),
                            "--storage.tsdb.path=/prometheus",
                            "--storage.tsdb.retention.time=1d",
                            format!("--web.listen-address=:{PROMETHEUS_PORT}"),
                        ],
                        "ports": [{"name": "http", "containerPort": PROMETHEUS_PORT, "protocol": "TCP"}],
                        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/-/healthy", "port": "http"}, "periodSeconds": 15, "failureThreshold": 4},
                        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [
                            {"name": "config", "mountPath": "/etc/prometheus", "readOnly": true},
                            {"name": "data", "mountPath": "/prometheus"},
                        ],
                    }],
                    "volumes": [
                        {"name": "config", "configMap": {"name": name}},
                        {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                    ],
                },
            },
        },
    });
    Api::<Deployment>::namespaced(client.clone(), namespace)
        .patch(&name, &params, &Patch::Apply(deployment))
        .await
        .with_context(|| format!("applying the Deployment {name}"))?;
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "type": "NodePort",
            "selector": labels,
            "ports": [{"name": "http", "port": PROMETHEUS_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    });
    Api::<Service>::namespaced(client.clone(), namespace)
        .patch(&name, &params, &Patch::Apply(service))
        .await
        .with_context(|| format!("applying the Service {name}"))?;
    Ok(())
}

/// Waits until Prometheus answers ready and returns the NodePort its Service got.
pub async fn wait_ready(
    client: &Client,
    namespace: &str,
    release: &str,
    node_host: &str,
    timeout: Duration,
) -> anyhow::Result<String> {
    let name = name(release);
    let service = Api::<Service>::namespaced(client.clone(), namespace)
        .get(&name)
        .await
        .with_context(|| format!("reading the Service {name}"))?;
    let node_port = service
        .spec
        .and_then(|s| s.ports)
        .and_then(|ports| ports.into_iter().find_map(|p| p.node_port))
        .with_context(|| format!("the Service {name} got no NodePort"))?;
    let url = format!("http://{node_host}:{node_port}");
    let ready = format!("{url}/-/ready");
    let every = Duration::from_secs(1);
    crate::http::wait_until_ok(
        &crate::http::client()?,
        &ready,
        timeout,
        every,
        crate::http::never_gone,
    )
    .await
    .with_context(|| {
        format!(
            "Prometheus ({name} in {namespace}) was not ready: `cargo xtask status` and \
                 `kubectl -n {namespace} describe deploy/{name}` say why"
        )
    })?;
    Ok(url)
}

/// Deletes the objects [`apply`] made, if any.
pub async fn delete(
    client: &Client,
    namespace: &str,
    release: &str,
) -> anyhow::Result<Vec<String>> {
    let name = name(release);
    let params = DeleteParams::default();
    let mut deleted = Vec::new();
    macro_rules! remove {
        ($kind:ty, $label:literal, $name:expr) => {
            let object: String = $name;
            match Api::<$kind>::namespaced(client.clone(), namespace)
                .delete(&object, &params)
                .await
            {
                Ok(_) => deleted.push(format!("{} {object}", $label)),
                Err(kube::Error::Api(response)) if response.code == 404 => {}
                Err(err) => {
                    return Err(err).with_context(|| format!("deleting the {} {object}", $label));
                }
            }
        };
    }
    remove!(Service, "Service", name.clone());
    for component in ["backend", "frontend"] {
        remove!(Service, "Service", pods_service(release, component));
    }
    remove!(Deployment, "Deployment", name.clone());
    remove!(ConfigMap, "ConfigMap", name.clone());
    Ok(deleted)
}

/// Where the cluster gets the image from.
pub enum Source<'a> {
    /// Pushed to this registry (`up --target kube`).
    Registry(&'a str),
    /// Built into the engine the cluster's node runs on (Minikube): used where it is.
    NodeEngine,
}

/// Where and how [`start`] runs Prometheus.
pub struct Placement<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    /// Where this machine reaches the cluster's NodePorts.
    pub node_host: &'a str,
}

/// The whole cluster half of `up --monitoring`, after the release is installed: the image built
/// on `docker` (and pushed), the objects applied with the chart's `rules` for this release, and
/// Prometheus ready on its NodePort.
pub async fn start(
    sh: &xshell::Shell,
    docker: &bollard::Docker,
    source: Source<'_>,
    client: &Client,
    placement: Placement<'_>,
    rules: &ChartRules,
    timeout: Duration,
) -> anyhow::Result<super::Urls> {
    let Placement {
        release,
        namespace,
        node_host,
    } = placement;
    let built =
        super::image::ensure(sh, docker, super::image::prometheus_spec(Vec::new())?).await?;
    let image = match source {
        Source::NodeEngine => built,
        Source::Registry(registry) => {
            let reference = format!("{registry}/{built}");
            let (repo, tag) = reference
                .rsplit_once(':')
                .context("an image reference has a tag")?;
            let options = bollard::query_parameters::TagImageOptionsBuilder::default()
                .repo(repo)
                .tag(tag)
                .build();
            docker
                .tag_image(&built, Some(options))
                .await
                .with_context(|| format!("tagging {built} as {reference}"))?;
            crate::images::push::push(docker, &reference).await?;
            reference
        }
    };
    println!(
        "==> Prometheus {} in namespace {namespace} ({image})",
        name(release)
    );
    apply(client, namespace, release, &image, rules).await?;
    let url = wait_ready(client, namespace, release, node_host, timeout).await?;
    Ok(super::Urls {
        prometheus: url,
        alertmanager: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_component_is_found_by_its_headless_service_and_labelled_as_the_rules_expect() {
        let rules = ChartRules {
            spec: json!({"groups": []}),
            backend_job: "rel-backend".to_owned(),
            frontend_job: "rel-frontend".to_owned(),
            namespace: "apps".to_owned(),
            backend_selector: json!({"component": "backend"}),
            frontend_selector: json!({"component": "frontend"}),
        };
        let config: Value = serde_json::from_str(&config(&rules, "rel")).unwrap();
        let jobs = config["scrape_configs"].as_array().unwrap();
        assert_eq!(jobs[0]["job_name"], "rel-backend");
        assert_eq!(
            jobs[0]["dns_sd_configs"][0]["names"][0],
            "rel-prometheus-backend-pods.apps.svc"
        );
        assert_eq!(jobs[0]["dns_sd_configs"][0]["port"], 8000);
        assert_eq!(jobs[1]["job_name"], "rel-frontend");
        assert_eq!(jobs[1]["dns_sd_configs"][0]["port"], 3000);
        let relabel = jobs[1]["relabel_configs"].as_array().unwrap();
        assert!(relabel.contains(&json!({"target_label": "namespace", "replacement": "apps"})));
        assert_eq!(config["rule_files"][0], super::super::config::RULES_FILE);
        assert_eq!(jobs[2]["job_name"], "prometheus");
        assert_eq!(config["global"]["evaluation_interval"], "5s");
        assert_eq!(in_cluster_url("rel"), "http://rel-prometheus:9090");
    }
}
