//! Operations endpoints: health, readiness, metrics, OpenAPI, request ids.

use reqwest::Method;

use crate::helpers::*;

on_both_databases! {
    async fn healthz_and_readyz_answer_200_with_a_healthy_database(app) {
        let health = call(&app, Method::GET, "/healthz", None, None).await;
        assert_eq!((health.status, health.body.clone()), (200, serde_json::json!({"status": "ok"})));
        let ready = call(&app, Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, 200);
        assert_eq!(ready.body, serde_json::json!({"status": "ready", "checks": {"database": "ok"}}));
    }

    async fn metrics_expose_the_names_of_the_interface_sheet(app) {
        let user = app.sign_up(&email("metrics")).await;
        let task = create_task(&app, &user, "count me").await;
        let id = task["id"].as_i64().unwrap();
        call(&app, Method::PATCH, &format!("{}/complete", task_path(&user, id)), Some(&user), None).await;
        call(&app, Method::DELETE, &task_path(&user, id), Some(&user), None).await;
        call(&app, Method::GET, "/no/such/route", None, None).await;
        call(&app, Method::GET, "/readyz", None, None).await;
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        for expected in [
            "http_requests_total{method=\"POST\",route=\"/api/{user_id}/tasks\",status=\"201\"}",
            "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
            "http_request_duration_seconds_bucket{method=\"DELETE\",route=\"/api/{user_id}/tasks/{id}\",status=\"204\",le=\"0.0025\"}",
            "http_requests_in_flight",
            "app_build_info{service=\"backend\",version=\"",
            "process_resident_memory_bytes",
            "process_cpu_seconds_total",
            "process_start_time_seconds",
            "db_up ",
            "db_pool_connections{state=\"idle\"}",
            "db_pool_connections{state=\"active\"}",
            "db_pool_max_connections",
            "todo_tasks_created_total",
            "todo_tasks_completed_total",
            "todo_tasks_deleted_total",
        ] {
            assert!(text.contains(expected), "/metrics lacks `{expected}`:\n{text}");
        }
        assert!(!text.contains(&user.id), "raw paths never become labels");
    }

    async fn openapi_is_3_1_and_describes_every_task_route(app) {
        let doc = call(&app, Method::GET, "/api/openapi.json", None, None).await;
        assert_eq!(doc.status, 200);
        assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc.body["openapi"]);
        let paths = doc.body["paths"].as_object().unwrap();
        for (path, method) in [
            ("/api/{user_id}/tasks", "get"), ("/api/{user_id}/tasks", "post"),
            ("/api/{user_id}/tasks/{id}", "get"), ("/api/{user_id}/tasks/{id}", "put"),
            ("/api/{user_id}/tasks/{id}", "delete"), ("/api/{user_id}/tasks/{id}/complete", "patch"),
            ("/api/auth/sign-up", "post"), ("/api/auth/sign-in", "post"), ("/api/auth/me", "get"),
            ("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get"),
        ] {
            assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
        }
        assert!(doc.body["components"]["schemas"]["Task"].is_object(), "the Task schema is there");
    }

    async fn request_ids_are_kept_or_created_and_returned(app) {
        let given = app.client.get(app.url("/healthz")).header("x-request-id", "trace-me-123").send().await.unwrap();
        assert_eq!(given.headers()["x-request-id"], "trace-me-123");
        let created = app.client.get(app.url("/healthz")).send().await.unwrap();
        let id = created.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "a created id is a UUID: {id}");
        let error = app.client.get(app.url("/nowhere")).send().await.unwrap();
        assert!(error.headers().contains_key("x-request-id"), "errors carry one too");
    }
}
