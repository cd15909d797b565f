//! The alert rules as the chart ships them: the chart is rendered with its PrometheusRule on
//! (as a cluster with prometheus-operator gets it) and the rule groups are taken from it, with
//! the names of the Services the rules expect as scrape jobs.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use xshell::Shell;

use crate::{helm, pytools};

/// What the stack's Prometheus needs from the chart.
#[derive(Debug, Clone)]
pub struct ChartRules {
    /// The PrometheusRule's `spec` (`{"groups": [...]}`): a Prometheus rule file as it is.
    pub spec: Value,
    /// The `job` label each service's series must carry (the Service's name, as a
    /// ServiceMonitor names its targets' jobs).
    pub backend_job: String,
    pub frontend_job: String,
    /// The `namespace` label the rules select on.
    pub namespace: String,
    /// The pod selectors of the two Services (on a cluster, Prometheus finds the pods by them).
    pub backend_selector: Value,
    pub frontend_selector: Value,
}

impl ChartRules {
    /// The rule groups' names, in the chart's order.
    pub fn group_names(&self) -> Vec<String> {
        group_names(&self.spec)
    }

    /// Every alert the rules define, with its `for:` (zero when it has none).
    pub fn alerts(&self) -> Vec<(String, std::time::Duration)> {
        self.spec["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .filter_map(|rule| {
                let name = rule["alert"].as_str()?.to_owned();
                let hold = rule["for"]
                    .as_str()
                    .and_then(|text| crate::e2e::parse_duration(text).ok())
                    .unwrap_or_default();
                Some((name, hold))
            })
            .collect()
    }
}

pub fn group_names(spec: &Value) -> Vec<String> {
    spec["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["name"].as_str().map(str::to_owned))
        .collect()
}

/// Renders the chart (defaults plus the rules) with the Helm engine, as the release and
/// namespace every check uses, and picks out the rules.
pub fn from_chart(sh: &Shell) -> anyhow::Result<ChartRules> {
    from_chart_as(sh, helm::RELEASE, helm::NAMESPACE)
}

/// [`from_chart`] for release `release` in `namespace`: the rules select on both.
pub fn from_chart_as(sh: &Shell, release: &str, namespace: &str) -> anyhow::Result<ChartRules> {
    if !pytools::is_installed() && which::which("helm").is_err() {
        bail!(
            "--monitoring loads the chart's alert rules, which takes the Helm engine: install \
             it with `cargo xtask doctor --install` (or put `helm` on PATH)"
        );
    }
    let inputs = helm::Inputs {
        profile: None,
        set_json: Some(
            json!({"metrics": {"requireOperatorApi": false, "prometheusRule": {"enabled": true}}})
                .to_string(),
        ),
    };
    let rendered = helm::render_as(sh, &inputs, release, namespace)
        .context("rendering the chart's alert rules")?;
    let objects = helm::objects(sh, &rendered)?;
    pick(&objects)
}

fn pick(objects: &[helm::Object]) -> anyhow::Result<ChartRules> {
    let rule = objects
        .iter()
        .find(|o| o.kind() == "PrometheusRule")
        .context("the chart rendered no PrometheusRule with metrics.prometheusRule.enabled")?;
    let service = |component: &str| {
        objects
            .iter()
            .find(|o| {
                o.kind() == "Service"
                    && o.object["metadata"]["labels"]["app.kubernetes.io/component"] == component
            })
            .map(|o| (o.name().to_owned(), o.object["spec"]["selector"].clone()))
            .with_context(|| format!("the chart rendered no Service for the {component}"))
    };
    let (backend_job, backend_selector) = service("backend")?;
    let (frontend_job, frontend_selector) = service("frontend")?;
    let spec = rule.object["spec"].clone();
    if group_names(&spec).is_empty() {
        bail!("the chart's PrometheusRule has no rule groups");
    }
    Ok(ChartRules {
        spec,
        backend_job,
        frontend_job,
        namespace: rule.object["metadata"]["namespace"]
            .as_str()
            .unwrap_or(helm::NAMESPACE)
            .to_owned(),
        backend_selector,
        frontend_selector,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn object(kind: &str, name: &str, extra: Value) -> helm::Object {
        let mut object = json!({"kind": kind, "metadata": {"name": name, "namespace": "todo"}});
        if let (Some(target), Some(more)) = (object.as_object_mut(), extra.as_object()) {
            for (key, value) in more {
                target.insert(key.clone(), value.clone());
            }
        }
        helm::Object {
            source: "t.yaml".to_owned(),
            object,
        }
    }

    #[test]
    fn rules_come_with_the_job_names_of_the_services() {
        let service = |name: &str, component: &str| {
            let mut o = object("Service", name, json!({}));
            o.object["metadata"]["labels"] = json!({"app.kubernetes.io/component": component});
            o.object["spec"] = json!({"selector": {"component": component}});
            o
        };
        let spec = json!({"groups": [{"name": "a", "rules": [
            {"alert": "Down", "expr": "up == 0", "for": "2m"},
            {"alert": "Now", "expr": "x > 1"},
            {"record": "r", "expr": "y"}]}]});
        let objects = vec![
            service("rel-backend", "backend"),
            service("rel-frontend", "frontend"),
            object("PrometheusRule", "rel", json!({"spec": spec})),
        ];
        let rules = pick(&objects).unwrap();
        assert_eq!(rules.backend_job, "rel-backend");
        assert_eq!(rules.frontend_job, "rel-frontend");
        assert_eq!(rules.namespace, "todo");
        assert_eq!(rules.backend_selector, json!({"component": "backend"}));
        assert_eq!(rules.group_names(), vec!["a"]);
        assert_eq!(
            rules.alerts(),
            vec![
                ("Down".to_owned(), std::time::Duration::from_secs(120)),
                ("Now".to_owned(), std::time::Duration::ZERO)
            ]
        );
        let err = pick(&objects[..2]).unwrap_err().to_string();
        assert!(err.contains("no PrometheusRule"), "{err}");
    }
}
