//! The chart against the services themselves: the env names the rendered pods get are names
//! the config crate reads; ports and probe paths are what the real binaries serve; and every
//! metric the dashboard and the alert rules query is one the services export (or a listed
//! cluster metric from kube-state-metrics / cAdvisor).

mod promql;
mod services;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use serde_json::Value;
use xshell::Shell;

use super::{PRODUCTION, Render};
use crate::helm::Object;

/// Series that come from the cluster, not from the services; the dashboard and rules may use these.
pub const CLUSTER_METRICS: [&str; 10] = [
    "up",
    "kube_pod_container_status_restarts_total",
    "kube_deployment_status_replicas_unavailable",
    "kube_deployment_spec_replicas",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_pod_container_resource_requests",
    "kube_pod_container_resource_limits",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
];

/// Which service a container runs, from its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Backend,
    Frontend,
}

impl Service {
    fn of_image(image: &str) -> Option<Self> {
        if image.contains(crate::catalog::backend().image) {
            Some(Self::Backend)
        } else if image.contains(crate::catalog::frontend().image) {
            Some(Self::Frontend)
        } else {
            None
        }
    }

    fn env_vars(self) -> &'static [&'static str] {
        match self {
            Self::Backend => todo_config::backend::ENV_VARS,
            Self::Frontend => todo_config::frontend::ENV_VARS,
        }
    }
}

/// A long-running container of a rendered Deployment: its env (ConfigMaps resolved), port and probes.
#[derive(Debug, Clone)]
pub struct Container {
    pub service: Service,
    pub owner: String,
    pub env: BTreeMap<String, String>,
    pub port: u16,
    pub probe_paths: BTreeSet<String>,
}

pub fn run(sh: &Shell, renders: &[Render]) -> anyhow::Result<()> {
    println!("==> the rendered pods against the config crate and the real services");
    let mut minikube = Vec::new();
    let mut helm_tests = Vec::new();
    for render in renders {
        let containers = containers(&render.objects)
            .with_context(|| format!("reading the containers of {}", render.profile_name()))?;
        check_env_and_ports(render.profile_name(), &render.objects, &containers)?;
        if render.inputs.profile == Some(crate::catalog::MINIKUBE_PROFILE) {
            minikube = containers;
            helm_tests = helm_test_commands(&render.objects);
        }
    }
    println!(
        "    env names, container ports and probe ports agree with services/config in every profile"
    );

    let production = renders
        .iter()
        .find(|r| r.inputs.profile == Some(PRODUCTION))
        .context("the production profile was not rendered")?;
    let queried = queried_metrics(&production.objects)?;

    let exported = services::exercise(sh, &minikube, &helm_tests)?;
    let unknown: Vec<&String> = queried
        .iter()
        .filter(|m| !exported.contains(*m) && !CLUSTER_METRICS.contains(&m.as_str()))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the dashboard or the alert rules query metrics the services do not export: {}\n  \
             (exported: {})",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            exported.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    println!(
        "    all {} metric names of the dashboard and the rules are exported by the services or listed cluster metrics",
        queried.len()
    );
    Ok(())
}

/// The `helm test` pods' backend commands (`healthcheck --url http://<frontend>:3000/…`).
fn helm_test_commands(objects: &[Object]) -> Vec<services::HelmTest> {
    let tests = objects
        .iter()
        .filter(|o| o.object["metadata"]["annotations"]["helm.sh/hook"] == "test");
    tests
        .flat_map(|test| {
            let containers = test.object["spec"]["containers"].as_array().cloned();
            containers
                .into_iter()
                .flatten()
                .map(|spec| services::HelmTest {
                    name: test.name().to_owned(),
                    args: spec["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect(),
                })
        })
        .collect()
}

/// Every backend/frontend container of the rendered Deployments, with env from its ConfigMaps.
pub fn containers(objects: &[Object]) -> anyhow::Result<Vec<Container>> {
    let config_maps: BTreeMap<&str, &Value> = objects
        .iter()
        .filter(|o| o.kind() == "ConfigMap")
        .map(|o| (o.name(), &o.object["data"]))
        .collect();
    let mut found = Vec::new();
    for deployment in objects.iter().filter(|o| o.kind() == "Deployment") {
        let specs = deployment.object["spec"]["template"]["spec"]["containers"]
            .as_array()
            .with_context(|| format!("Deployment {} has no containers", deployment.name()))?;
        for spec in specs {
            let image = spec["image"].as_str().unwrap_or_default();
            let service = Service::of_image(image).with_context(|| {
                format!(
                    "Deployment {} runs an unknown image {image}",
                    deployment.name()
                )
            })?;
            let owner = format!("Deployment {} ({})", deployment.name(), deployment.source);
            let mut env = BTreeMap::new();
            for source in spec["envFrom"].as_array().into_iter().flatten() {
                let name = source["configMapRef"]["name"].as_str().unwrap_or_default();
                let data = config_maps.get(name).with_context(|| {
                    format!("{owner} reads ConfigMap {name}, which is not rendered")
                })?;
                for (key, value) in data.as_object().into_iter().flatten() {
                    env.insert(key.clone(), value.as_str().unwrap_or_default().to_owned());
                }
            }
            for var in spec["env"].as_array().into_iter().flatten() {
                let name = var["name"].as_str().unwrap_or_default().to_owned();
                env.insert(name, var["value"].as_str().unwrap_or_default().to_owned());
            }
            let port = spec["ports"]
                .as_array()
                .and_then(|ports| ports.iter().find(|p| p["name"] == "http"))
                .and_then(|p| p["containerPort"].as_u64())
                .and_then(|p| u16::try_from(p).ok())
                .with_context(|| format!("{owner} has no container port named http"))?;
            let mut probe_paths = BTreeSet::new();
            for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
                let get = &spec[probe]["httpGet"];
                let path = get["path"]
                    .as_str()
                    .with_context(|| format!("{owner} has no HTTP {probe}"))?;
                if get["port"] != "http" && get["port"].as_u64() != Some(u64::from(port)) {
                    bail!(
                        "{owner}: the {probe} targets port {}, not the http port {port}",
                        get["port"]
                    );
                }
                probe_paths.insert(path.to_owned());
            }
            found.push(Container {
                service,
                owner,
                env,
                port,
                probe_paths,
            });
        }
    }
    Ok(found)
}

fn check_env_and_ports(
    profile: &str,
    objects: &[Object],
    containers: &[Container],
) -> anyhow::Result<()> {
    for container in containers {
        let known = container.service.env_vars();
        let unknown: Vec<&String> = container
            .env
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            bail!(
                "{profile}: {} sets env vars its service never reads: {unknown:?} (services/config reads {known:?})",
                container.owner
            );
        }
        let port = container
            .env
            .get("PORT")
            .and_then(|p| p.parse::<u16>().ok());
        if port != Some(container.port) {
            bail!(
                "{profile}: {} exposes containerPort {} but the service listens on PORT={port:?}",
                container.owner,
                container.port
            );
        }
    }
    // Jobs running the backend (migrations) must also use only names the backend reads.
    for job in objects.iter().filter(|o| o.kind() == "Job") {
        for spec in job.object["spec"]["template"]["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(service) = Service::of_image(spec["image"].as_str().unwrap_or_default())
            else {
                continue;
            };
            for var in spec["env"].as_array().into_iter().flatten() {
                let name = var["name"].as_str().unwrap_or_default();
                if !service.env_vars().contains(&name) {
                    bail!(
                        "{profile}: Job {} sets {name}, which its service never reads",
                        job.name()
                    );
                }
            }
        }
    }
    Ok(())
}

/// Metric names in the dashboard's queries and the alert rules' expressions.
fn queried_metrics(objects: &[Object]) -> anyhow::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let dashboard = objects
        .iter()
        .find(|o| o.object["metadata"]["labels"]["grafana_dashboard"] == "1")
        .context("the production profile renders no dashboard ConfigMap")?;
    for (file, text) in dashboard.object["data"].as_object().into_iter().flatten() {
        let json: Value = serde_json::from_str(text.as_str().unwrap_or_default())
            .with_context(|| format!("the dashboard {file} is not valid JSON"))?;
        let mut exprs = Vec::new();
        collect_exprs(&json, &mut exprs);
        if exprs.is_empty() {
            bail!("the dashboard {file} has no queries");
        }
        for expr in exprs {
            names.extend(promql::metric_names(&expr));
        }
    }
    let rules = objects
        .iter()
        .find(|o| o.kind() == "PrometheusRule")
        .context("the production profile renders no PrometheusRule")?;
    for group in rules.object["spec"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for rule in group["rules"].as_array().into_iter().flatten() {
            names.extend(promql::metric_names(
                rule["expr"].as_str().unwrap_or_default(),
            ));
        }
    }
    Ok(names)
}

/// Every `expr` string in a Grafana dashboard (panel targets and templating queries).
fn collect_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match inner {
                    Value::String(text) if key == "expr" => out.push(text.clone()),
                    _ => collect_exprs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn object(kind: &str, body: Value) -> Object {
        let mut object = body;
        object["kind"] = json_string(kind);
        Object {
            source: format!("test/{kind}.yaml"),
            object,
        }
    }

    fn json_string(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    fn backend(env_name: &str, container_port: u16) -> Vec<Object> {
        let probe = serde_json::json!({"httpGet": {"path": "/healthz", "port": "http"}});
        vec![
            object(
                "ConfigMap",
                serde_json::json!({"metadata": {"name": "cm"}, "data": {"PORT": "8000"}}),
            ),
            object(
                "Deployment",
                serde_json::json!({"metadata": {"name": "todo-backend"}, "spec": {"template": {"spec": {"containers": [{
                    "image": "todo-chatbot-backend:0.1.0",
                    "envFrom": [{"configMapRef": {"name": "cm"}}],
                    "env": [{"name": env_name, "value": "/secrets/key"}],
                    "ports": [{"name": "http", "containerPort": container_port}],
                    "startupProbe": probe, "readinessProbe": probe, "livenessProbe": probe,
                }]}}}}),
            ),
        ]
    }

    #[test]
    fn env_names_the_backend_reads_pass_and_a_misspelled_one_is_named() {
        let good = backend("BETTER_AUTH_SECRET_FILE", 8000);
        check_env_and_ports("p", &good, &containers(&good).unwrap()).unwrap();
        let typo = backend("BETTER_AUTH_SECRT_FILE", 8000);
        let err = check_env_and_ports("p", &typo, &containers(&typo).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("BETTER_AUTH_SECRT_FILE"),
            "the error names the unknown variable: {err}"
        );
    }

    #[test]
    fn a_container_port_other_than_the_services_port_is_refused() {
        let objects = backend("BETTER_AUTH_SECRET_FILE", 8080);
        let err = check_env_and_ports("p", &objects, &containers(&objects).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("containerPort 8080"), "{err}");
    }
}
