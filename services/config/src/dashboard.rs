//! The monitoring dashboard's panels, read from the Grafana dashboard the chart ships
//! (`deploy/helm/todo-chatbot/dashboards/todo-chatbot.json`): one list of queries for Grafana
//! users, for the frontend's `/ops/dashboard` and for `test-e2e --monitoring`'s check that every
//! panel has data, so they cannot drift.

use std::{collections::BTreeMap, sync::OnceLock};

use serde_json::Value;

/// The Grafana dashboard, as the chart's ConfigMap ships it.
const GRAFANA_DASHBOARD: &str =
    include_str!("../../../deploy/helm/todo-chatbot/dashboards/todo-chatbot.json");

/// The rate window that stands in for Grafana's `$__rate_interval`: four scrapes at the
/// slowest interval the chart's ServiceMonitor allows by default (15 s), so a rate always has
/// at least two samples.
pub const RATE_INTERVAL: &str = "1m";

/// One graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    /// Grafana's unit name (`reqps`, `s`, `percentunit`, `bytes`, `short`, ...).
    pub unit: String,
    pub queries: Vec<Query>,
}

/// One PromQL expression of a panel, with Grafana's variables still in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub expr: String,
    /// Grafana's `legendFormat` (`{{job}} p95`); empty: the series' labels.
    pub legend: String,
}

/// The panels of the shipped dashboard, in its order.
pub fn panels() -> Result<&'static [Panel], &'static str> {
    static PANELS: OnceLock<Result<Vec<Panel>, String>> = OnceLock::new();
    PANELS
        .get_or_init(|| parse(GRAFANA_DASHBOARD))
        .as_deref()
        .map_err(String::as_str)
}

/// Reads the graph panels and their queries out of a Grafana dashboard's JSON.
pub fn parse(json: &str) -> Result<Vec<Panel>, String> {
    let dashboard: Value =
        serde_json::from_str(json).map_err(|err| format!("the dashboard is not JSON: {err}"))?;
    let mut panels = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or_default().to_owned();
        let queries: Vec<Query> = panel["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|target| {
                Some(Query {
                    expr: target["expr"].as_str()?.to_owned(),
                    legend: target["legendFormat"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                })
            })
            .collect();
        if queries.is_empty() {
            // A row or a text panel: nothing to graph.
            continue;
        }
        panels.push(Panel {
            title,
            unit: panel["fieldConfig"]["defaults"]["unit"]
                .as_str()
                .unwrap_or("short")
                .to_owned(),
            queries,
        });
    }
    if panels.is_empty() {
        return Err("the dashboard has no panel with a query".to_owned());
    }
    Ok(panels)
}

/// The expression with Grafana's variables filled in: `$namespace` and `$__rate_interval`.
pub fn promql(expr: &str, namespace: &str) -> String {
    expr.replace("${namespace}", namespace)
        .replace("$namespace", namespace)
        .replace("$__rate_interval", RATE_INTERVAL)
}

/// A series' name in the legend: `legendFormat` with `{{label}}` filled in, or the labels.
pub fn legend(format: &str, labels: &BTreeMap<String, String>) -> String {
    if format.is_empty() {
        let pairs: Vec<String> = labels
            .iter()
            .filter(|(name, _)| name.as_str() != "__name__")
            .map(|(name, value)| format!("{name}=\"{value}\""))
            .collect();
        return format!("{{{}}}", pairs.join(", "));
    }
    let mut out = String::new();
    let mut rest = format;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        out.push_str(labels.get(name).map(String::as_str).unwrap_or_default());
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// A namespace name as Kubernetes allows it (RFC 1123 label): anything else is refused before
/// it reaches a query.
pub fn valid_namespace(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_shipped_dashboard_gives_every_panel_a_query_and_a_unit() {
        let panels = panels().unwrap();
        assert!(panels.len() >= 10, "{} panels", panels.len());
        for panel in panels {
            assert!(!panel.title.is_empty());
            assert!(!panel.unit.is_empty(), "{}", panel.title);
            for query in &panel.queries {
                let filled = promql(&query.expr, "todo");
                assert!(
                    !filled.contains('$'),
                    "a Grafana variable is left in {filled}"
                );
                assert!(filled.contains("namespace=\"todo\""), "{filled}");
            }
        }
        let titles: Vec<&str> = panels.iter().map(|p| p.title.as_str()).collect();
        for wanted in [
            "Error ratio (5xx share)",
            "Latency percentiles",
            "Database pool",
        ] {
            assert!(titles.contains(&wanted), "{titles:?}");
        }
    }

    #[test]
    fn a_dashboard_without_queries_is_refused() {
        assert!(parse("{\"panels\": [{\"type\": \"row\"}]}").is_err());
        assert!(parse("not json").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn legends_fill_labels_or_list_them() {
        let labels = BTreeMap::from([
            ("job".to_owned(), "todo-backend".to_owned()),
            ("status".to_owned(), "200".to_owned()),
        ]);
        assert_eq!(legend("{{job}} p95", &labels), "todo-backend p95");
        assert_eq!(legend("{{ status }}/{{missing}}", &labels), "200/");
        assert_eq!(
            legend("", &labels),
            "{job=\"todo-backend\", status=\"200\"}"
        );
        assert_eq!(legend("open {{job", &labels), "open {{job");
    }

    #[test]
    fn only_kubernetes_namespace_names_pass() {
        assert!(valid_namespace("todo"));
        assert!(valid_namespace("team-1"));
        for bad in ["", "Todo", "a\"}", "-a", "a-", &"a".repeat(64)] {
            assert!(!valid_namespace(bad), "{bad}");
        }
    }
}
