//! `/healthz`, `/readyz` and `/metrics`.

use serde_json::Value;

use crate::helpers::{TestFrontend, Upstream, client, closed_port_url};

#[tokio::test]
async fn healthz_is_ok_even_without_a_backend() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let answer = client().get(frontend.url("/healthz")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "ok"})
    );
}

#[tokio::test]
async fn readyz_stays_200_and_names_the_problem_while_the_backend_is_unreachable() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let answer = client().get(frontend.url("/readyz")).send().await.unwrap();
    assert_eq!(
        answer.status(),
        200,
        "the UI can be served without the backend"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert!(
        body["backend"].as_str().unwrap().contains("unreachable"),
        "{body}"
    );
}

#[tokio::test]
async fn readyz_stays_200_while_the_backend_is_not_ready() {
    let upstream = Upstream::spawn_not_ready().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;
    let answer = client().get(frontend.url("/readyz")).send().await.unwrap();
    assert_eq!(
        answer.status(),
        200,
        "a database blip must not take the UI out"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "checks": {}, "backend": "the backend answered 503 to /readyz"})
    );
}

#[tokio::test]
async fn readyz_is_200_while_the_backend_is_ready() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;
    let answer = client().get(frontend.url("/readyz")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "checks": {}, "backend": "ok"})
    );
}

#[tokio::test]
async fn metrics_carry_the_names_and_labels_of_the_interface_sheet() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;
    let http = client();
    http.get(frontend.url("/healthz")).send().await.unwrap();
    http.get(frontend.url("/api/user-9/tasks/3"))
        .send()
        .await
        .unwrap();
    http.post(frontend.url("/api/user-9/chat"))
        .send()
        .await
        .unwrap();
    http.get(frontend.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    http.get(frontend.url("/readyz")).send().await.unwrap();

    let answer = http.get(frontend.url("/metrics")).send().await.unwrap();
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = answer.text().await.unwrap();
    for expected in [
        "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}",
        "http_requests_total{method=\"GET\",route=\"/api/{*path}\",status=\"200\"}",
        // chat turns keep the backend's route label: the alerts give them their own objective
        "http_requests_total{method=\"POST\",route=\"/api/{user_id}/chat\",status=\"200\"}",
        "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.001\"}",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"10\"}",
        "http_requests_in_flight ",
        "app_build_info{service=\"frontend\",version=\"",
        "backend_up 1",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_start_time_seconds ",
    ] {
        assert!(
            text.contains(expected),
            "/metrics lacks `{expected}`:\n{text}"
        );
    }
    assert!(
        !text.contains("user-9"),
        "a raw path must never become a label:\n{text}"
    );
}

#[tokio::test]
async fn operations_endpoints_are_not_served_to_requests_that_came_through_a_proxy() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        let direct = client().get(frontend.url(path)).send().await.unwrap();
        assert_eq!(
            direct.status(),
            200,
            "{path} called directly (probes, Prometheus)"
        );
        let proxied = client()
            .get(frontend.url(path))
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .unwrap();
        assert_eq!(proxied.status(), 404, "{path} through an ingress");
        let body: Value = proxied.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}: {body}");
    }
    let page = client()
        .get(frontend.url("/"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the UI is served through the ingress");
}
