//! `/ops/dashboard` against a stand-in for Prometheus's HTTP API (the real Prometheus is
//! `cargo xtask test-e2e --monitoring`'s): every panel of the Grafana dashboard is asked for
//! with its variables filled in, and drawn, or said to be empty.

use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::Query, routing::get};
use serde_json::json;
use todo_config::dashboard;

use crate::helpers::{TestFrontend, client, closed_port_url};

/// A Prometheus that knows the namespace `todo`, answers every range query with two samples,
/// except those of MCP tool calls (no series), and remembers the queries.
async fn fake_prometheus(queries: Arc<Mutex<Vec<String>>>) -> String {
    let app = Router::new()
        .route(
            "/api/v1/label/namespace/values",
            get(|| async { Json(json!({"status": "success", "data": ["todo", "other"]})) }),
        )
        .route(
            "/api/v1/query_range",
            get(
                move |Query(params): Query<std::collections::HashMap<String, String>>| async move {
                    let query = params.get("query").cloned().unwrap_or_default();
                    queries.lock().unwrap().push(query.clone());
                    let start: f64 = params["start"].parse().unwrap();
                    let result = if query.contains("chat_tool_calls_total") {
                        json!([])
                    } else {
                        json!([{"metric": {"job": "todo-chatbot-backend"},
                                "values": [[start, "1"], [start + 60.0, "NaN"], [start + 120.0, "3"]]}])
                    };
                    Json(
                        json!({"status": "success", "data": {"resultType": "matrix", "result": result}}),
                    )
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn without_a_prometheus_the_page_says_what_to_set() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let answer = client()
        .get(frontend.url("/ops/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    assert!(answer.text().await.unwrap().contains("PROMETHEUS_URL"));
}

#[tokio::test]
async fn every_panel_is_asked_for_in_its_namespace_and_drawn_or_said_empty() {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let prometheus = fake_prometheus(queries.clone()).await;
    let frontend =
        TestFrontend::spawn_with(&closed_port_url().await, &[("PROMETHEUS_URL", &prometheus)])
            .await;
    let answer = client()
        .get(frontend.url("/ops/dashboard?minutes=15"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let policy = answer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let page = answer.text().await.unwrap();

    let panels = dashboard::panels().unwrap();
    let asked = queries.lock().unwrap().clone();
    let wanted: usize = panels.iter().map(|p| p.queries.len()).sum();
    assert_eq!(asked.len(), wanted, "one range query per panel query");
    for query in &asked {
        assert!(!query.contains('$'), "a Grafana variable was sent: {query}");
        assert!(query.contains("namespace=\"todo\""), "{query}");
    }
    assert_eq!(
        page.matches("<section class=\"panel\"").count(),
        panels.len()
    );
    assert_eq!(
        page.matches("data-state=\"empty\"").count(),
        1,
        "the MCP panel has no series"
    );
    assert_eq!(
        page.matches("data-state=\"data\"").count(),
        panels.len() - 1
    );
    assert_eq!(page.matches("<svg").count(), panels.len() - 1);
    assert!(
        page.contains("todo-chatbot-backend p95"),
        "legends use legendFormat"
    );
    assert!(
        page.contains("namespace other"),
        "the other namespace is offered"
    );
}

#[tokio::test]
async fn the_dashboard_is_not_published_through_a_proxy_and_refuses_bad_parameters() {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let prometheus = fake_prometheus(queries.clone()).await;
    let frontend =
        TestFrontend::spawn_with(&closed_port_url().await, &[("PROMETHEUS_URL", &prometheus)])
            .await;
    let proxied = client()
        .get(frontend.url("/ops/dashboard"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 404);
    for bad in ["namespace=a%22%7D", "minutes=1", "minutes=99999"] {
        let answer = client()
            .get(frontend.url(&format!("/ops/dashboard?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
    }
    assert!(
        queries.lock().unwrap().is_empty(),
        "nothing refused reaches Prometheus"
    );
}
