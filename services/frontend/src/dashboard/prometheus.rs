//! The two calls of Prometheus's HTTP API the dashboard makes: a range query and the values of
//! the `namespace` label.

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;

/// How long one query may take: a page waits for its slowest panel.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One series of a range query: its labels and its finite samples `(unix seconds, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

/// The time range and resolution of a page.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

/// `GET /api/v1/query_range`.
pub async fn query_range(
    client: &reqwest::Client,
    base: &str,
    promql: &str,
    range: Range,
) -> Result<Vec<Series>, String> {
    let url = format!("{base}/api/v1/query_range");
    let params = [
        ("query", promql.to_owned()),
        ("start", format!("{:.3}", range.start)),
        ("end", format!("{:.3}", range.end)),
        ("step", format!("{}", range.step)),
    ];
    let data = call(client.get(&url).query(&params)).await?;
    if data["resultType"] != "matrix" {
        return Err(format!(
            "Prometheus answered a {} for a range query",
            data["resultType"]
        ));
    }
    Ok(data["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|series| Series {
            labels: labels(&series["metric"]),
            points: series["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(sample)
                .collect(),
        })
        .filter(|series| !series.points.is_empty())
        .collect())
}

/// The namespaces that run the services (the `namespace` label of `app_build_info`), the way
/// the Grafana dashboard's variable finds them.
pub async fn namespaces(client: &reqwest::Client, base: &str) -> Result<Vec<String>, String> {
    let url = format!("{base}/api/v1/label/namespace/values");
    let data = call(client.get(&url).query(&[("match[]", "app_build_info")])).await?;
    Ok(data
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// Sends the request and returns the `data` of a `success` answer, or what went wrong.
async fn call(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request
        .timeout(QUERY_TIMEOUT)
        .send()
        .await
        .map_err(|err| format!("Prometheus cannot be reached: {err}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|err| format!("Prometheus answered {status} without JSON: {err}"))?;
    if body["status"] != "success" {
        return Err(format!(
            "Prometheus answered {status}: {}",
            body["error"].as_str().unwrap_or("no error message")
        ));
    }
    Ok(body["data"].clone())
}

fn labels(metric: &Value) -> BTreeMap<String, String> {
    metric
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
        .collect()
}

/// `[1700000000.123, "0.25"]`, kept only when the value is a finite number (a quantile of no
/// traffic is `NaN`).
fn sample(pair: &Value) -> Option<(f64, f64)> {
    let time = pair.get(0)?.as_f64()?;
    let value: f64 = pair.get(1)?.as_str()?.parse().ok()?;
    value.is_finite().then_some((time, value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn samples_keep_finite_numbers_only() {
        let json: Value = serde_json::json!([[1.5, "2"], [2.5, "NaN"], [3.5, "+Inf"], [4.5, "x"]]);
        let kept: Vec<(f64, f64)> = json.as_array().unwrap().iter().filter_map(sample).collect();
        assert_eq!(kept, vec![(1.5, 2.0)]);
    }
}
