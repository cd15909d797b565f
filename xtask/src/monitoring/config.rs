//! The configuration files of the stack's Prometheus and Alertmanager. Both read YAML, and
//! JSON is YAML: they are written with serde_json, so nothing is spliced into text.

use serde_json::{Value, json};

use super::{ALERTMANAGER, ALERTMANAGER_PORT, PROMETHEUS_PORT, SCRAPE_INTERVAL_SECONDS};
use crate::monitoring::rules::ChartRules;

/// Where the files go inside the images.
pub const PROMETHEUS_CONFIG: &str = "/etc/prometheus/prometheus.yml";
pub const RULES_FILE: &str = "/etc/prometheus/rules.yml";
pub const ALERTMANAGER_CONFIG: &str = "/etc/alertmanager/alertmanager.yml";

/// One service Prometheus scrapes: its `host:port` on the stack's network and the name its
/// series carry as `pod` (the container's name: what a pod's name is on a cluster).
pub struct Target<'a> {
    pub address: String,
    pub pod: &'a str,
    pub container: &'a str,
}

/// `prometheus.yml`: both services scraped under the job names and namespace the chart's rules
/// select on, the rule file loaded, alerts sent to Alertmanager when there is one.
pub fn prometheus(
    rules: &ChartRules,
    backend: &Target<'_>,
    frontend: &Target<'_>,
    with_alertmanager: bool,
) -> String {
    let job = |name: &str, target: &Target<'_>| {
        json!({
            "job_name": name,
            "metrics_path": "/metrics",
            "static_configs": [{
                "targets": [target.address],
                "labels": {
                    "namespace": rules.namespace,
                    "pod": target.pod,
                    "container": target.container,
                },
            }],
        })
    };
    let mut config = with_jobs(vec![
        job(&rules.backend_job, backend),
        job(&rules.frontend_job, frontend),
    ]);
    if with_alertmanager {
        config["alerting"] = json!({
            "alertmanagers": [{
                "static_configs": [{"targets": [format!("{ALERTMANAGER}:{ALERTMANAGER_PORT}")]}],
            }],
        });
    }
    pretty(&config)
}

/// What every `prometheus.yml` here holds besides the services' scrape `jobs`: scrapes and rule
/// evaluations every [`SCRAPE_INTERVAL_SECONDS`], the rule file, and Prometheus's own metrics.
pub fn with_jobs(mut jobs: Vec<Value>) -> Value {
    let interval = format!("{SCRAPE_INTERVAL_SECONDS}s");
    jobs.push(json!({
        "job_name": "prometheus",
        "static_configs": [{"targets": [format!("localhost:{PROMETHEUS_PORT}")]}],
    }));
    json!({
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": format!("{}s", SCRAPE_INTERVAL_SECONDS.saturating_sub(1).max(1)),
            "evaluation_interval": interval,
        },
        "rule_files": [RULES_FILE],
        "scrape_configs": jobs,
    })
}

/// `rules.yml`: the chart's PrometheusRule `spec`, which is a rule file as it stands.
pub fn rules(rules: &ChartRules) -> String {
    pretty(&rules.spec)
}

/// `alertmanager.yml`: every alert to one receiver with no integration. Alertmanager groups and
/// shows them (its UI and `/api/v2/alerts`); wire a receiver (e-mail, Slack, a webhook) for
/// real notifications, see docs/monitoring.md.
pub fn alertmanager() -> String {
    pretty(&json!({
        "route": {
            "receiver": "stack",
            "group_by": ["alertname", "job"],
            "group_wait": "5s",
            "group_interval": "30s",
            "repeat_interval": "4h",
        },
        "receivers": [{"name": "stack"}],
    }))
}

pub fn pretty(value: &Value) -> String {
    // Encoding a Value built in memory cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jobs_and_labels_are_the_ones_the_rules_select_on() {
        let rules = ChartRules {
            spec: json!({"groups": [{"name": "g", "rules": []}]}),
            backend_job: "rel-backend".to_owned(),
            frontend_job: "rel-frontend".to_owned(),
            namespace: "todo".to_owned(),
            backend_selector: json!({}),
            frontend_selector: json!({}),
        };
        let backend = Target {
            address: "backend:8000".to_owned(),
            pod: "c-backend",
            container: "backend",
        };
        let frontend = Target {
            address: "c-frontend:3000".to_owned(),
            pod: "c-frontend",
            container: "frontend",
        };
        let text = prometheus(&rules, &backend, &frontend, true);
        let config: Value = serde_json::from_str(&text).unwrap();
        let jobs = config["scrape_configs"].as_array().unwrap();
        assert_eq!(jobs[0]["job_name"], "rel-backend");
        assert_eq!(jobs[0]["static_configs"][0]["targets"][0], "backend:8000");
        assert_eq!(jobs[0]["static_configs"][0]["labels"]["namespace"], "todo");
        assert_eq!(jobs[1]["static_configs"][0]["labels"]["pod"], "c-frontend");
        assert_eq!(config["rule_files"][0], RULES_FILE);
        assert!(config["alerting"].is_object());
        let without: Value =
            serde_json::from_str(&prometheus(&rules, &backend, &frontend, false)).unwrap();
        assert!(without.get("alerting").is_none());
        assert_eq!(
            serde_json::from_str::<Value>(&super::rules(&rules)).unwrap(),
            rules.spec
        );
    }
}
