//! `/ops/dashboard`: the operator dashboard without Grafana. The panels and queries are the
//! Grafana dashboard's ([`todo_config::dashboard`]); each is asked of the Prometheus at `PROMETHEUS_URL`
//! ([`prometheus`]), drawn as SVG by plotters ([`chart`]) and laid out in one page without a
//! script ([`page`]). Like `/metrics`, it is an operations path: a request that came through a
//! reverse proxy gets a 404, so an ingress does not publish it.

pub mod chart;
pub mod page;
pub mod prometheus;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::future::join_all;
use serde::Deserialize;

use todo_config::dashboard as panels;

use crate::state::AppState;
use page::Content;
use prometheus::{Range, Series};

/// The query string: `?namespace=todo&minutes=60`.
#[derive(Debug, Deserialize)]
pub struct Params {
    pub namespace: Option<String>,
    pub minutes: Option<u32>,
}

/// The range shown when none is asked for, and the bounds of what may be asked.
const DEFAULT_MINUTES: u32 = 30;
const MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
/// Points per series at most: enough for a 640-pixel graph.
const POINTS: f64 = 160.0;

pub async fn dashboard(State(state): State<AppState>, Query(params): Query<Params>) -> Response {
    let Some(base) = state.config.prometheus_url.as_deref() else {
        return html(
            StatusCode::NOT_FOUND,
            page::problem(
                "No dashboard here",
                "This frontend has no Prometheus to ask: set PROMETHEUS_URL (`cargo xtask up \
                 --monitoring` does).",
            ),
        );
    };
    let panels = match panels::panels() {
        Ok(panels) => panels,
        Err(problem) => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                page::problem("The dashboard cannot be read", problem),
            );
        }
    };
    let minutes = params.minutes.unwrap_or(DEFAULT_MINUTES);
    if !MINUTES.contains(&minutes) {
        return html(
            StatusCode::BAD_REQUEST,
            page::problem(
                "No such range",
                &format!(
                    "minutes must be from {} to {}",
                    MINUTES.start(),
                    MINUTES.end()
                ),
            ),
        );
    }
    let namespaces = match prometheus::namespaces(&state.client, base).await {
        Ok(found) => found,
        Err(problem) => {
            tracing::warn!(%problem, "the dashboard cannot list namespaces");
            return html(
                StatusCode::BAD_GATEWAY,
                page::problem("Prometheus does not answer", &problem),
            );
        }
    };
    let namespace = match params.namespace {
        Some(asked) if panels::valid_namespace(&asked) => asked,
        Some(_) => {
            return html(
                StatusCode::BAD_REQUEST,
                page::problem(
                    "No such namespace",
                    "namespace must be a Kubernetes namespace name: lower-case letters, digits \
                     and '-'",
                ),
            );
        }
        None => match namespaces.first() {
            Some(first) => first.clone(),
            None => {
                return html(
                    StatusCode::OK,
                    page::problem(
                        "No service reports yet",
                        "Prometheus has no app_build_info series: the services are not scraped \
                         yet (wait for a scrape, or check Prometheus's targets page).",
                    ),
                );
            }
        },
    };
    let end = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    let span = f64::from(minutes) * 60.0;
    let range = Range {
        start: end - span,
        end,
        step: (span / POINTS).ceil().max(5.0),
    };
    let contents = join_all(panels.iter().map(|panel| {
        let client = &state.client;
        let namespace = &namespace;
        async move {
            (
                panel,
                panel_content(client, base, panel, namespace, range).await,
            )
        }
    }))
    .await;
    let header = page::Header {
        namespace: &namespace,
        namespaces: &namespaces,
        minutes,
        range,
    };
    html(StatusCode::OK, page::render(&header, &contents))
}

/// Runs the panel's queries and draws what they return.
async fn panel_content(
    client: &reqwest::Client,
    base: &str,
    panel: &panels::Panel,
    namespace: &str,
    range: Range,
) -> Content {
    let answers = join_all(panel.queries.iter().map(|query| async move {
        let promql = panels::promql(&query.expr, namespace);
        prometheus::query_range(client, base, &promql, range)
            .await
            .map(|series| (query, series))
    }))
    .await;
    let mut all: Vec<Series> = Vec::new();
    let mut names = Vec::new();
    for answer in answers {
        match answer {
            Ok((query, series)) => {
                for one in series {
                    names.push(panels::legend(&query.legend, &one.labels));
                    all.push(one);
                }
            }
            Err(problem) => return Content::Failed(problem),
        }
    }
    if all.is_empty() {
        return Content::Empty;
    }
    match chart::svg(&all, &panel.unit, range) {
        Ok(svg) => Content::Graph { svg, names },
        Err(problem) => Content::Failed(problem),
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // No script at all; the inline styles are the page's own.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}
