//! What `test-e2e --monitoring` and `status` read from Prometheus's HTTP API (`/api/v1`) and
//! Alertmanager's (`/api/v2`).

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// One scrape target as Prometheus reports it.
#[derive(Debug, Clone)]
pub struct Target {
    pub job: String,
    /// `up`, `down` or `unknown` (not scraped yet).
    pub health: String,
    pub last_error: String,
}

/// One alert as Prometheus reports it: its name, `pending` or `firing`, and its labels.
#[derive(Debug, Clone)]
pub struct Alert {
    pub name: String,
    pub state: String,
    pub labels: Value,
}

/// A client of one Prometheus (and its Alertmanager, if any).
pub struct Prometheus {
    base: String,
    client: reqwest::Client,
}

impl Prometheus {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let client = crate::http::client_with_timeout(Duration::from_secs(10))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// True when `/-/ready` answers 200.
    pub async fn is_ready(&self) -> bool {
        self.client
            .get(format!("{}/-/ready", self.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// The loaded rule groups: `(name, number of rules)`.
    pub async fn rule_groups(&self) -> anyhow::Result<Vec<(String, usize)>> {
        let data = self.get("/api/v1/rules", &[]).await?;
        Ok(data["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                (
                    g["name"].as_str().unwrap_or_default().to_owned(),
                    g["rules"].as_array().map_or(0, Vec::len),
                )
            })
            .collect())
    }

    pub async fn targets(&self) -> anyhow::Result<Vec<Target>> {
        let data = self.get("/api/v1/targets", &[("state", "active")]).await?;
        Ok(data["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Target {
                job: t["labels"]["job"].as_str().unwrap_or_default().to_owned(),
                health: t["health"].as_str().unwrap_or_default().to_owned(),
                last_error: t["lastError"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// An instant query's result vector (empty: no data).
    pub async fn query(&self, promql: &str) -> anyhow::Result<Vec<Value>> {
        let data = self.get("/api/v1/query", &[("query", promql)]).await?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// The alerts that are pending or firing now.
    pub async fn alerts(&self) -> anyhow::Result<Vec<Alert>> {
        let data = self.get("/api/v1/alerts", &[]).await?;
        Ok(data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| Alert {
                name: a["labels"]["alertname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                state: a["state"].as_str().unwrap_or_default().to_owned(),
                labels: a["labels"].clone(),
            })
            .collect())
    }

    async fn get(&self, path: &str, params: &[(&str, &str)]) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .query(params)
            .send()
            .await
            .with_context(|| format!("asking Prometheus {url}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("{url} answered {status} without JSON"))?;
        if body["status"] != "success" {
            bail!("{url} answered {status}: {}", body["error"]);
        }
        Ok(body["data"].clone())
    }
}

/// The names of the alerts Alertmanager holds (active, not silenced).
pub async fn alertmanager_alerts(base: &str) -> anyhow::Result<Vec<String>> {
    let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
    let body: Value = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("asking Alertmanager {url}"))?
        .json()
        .await
        .with_context(|| format!("{url} answered without JSON"))?;
    Ok(body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_owned))
        .collect())
}
