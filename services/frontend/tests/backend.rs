//! The frontend in front of the REAL backend (SQLite, in-process): accounts and tasks through
//! the proxy, and what happens while the backend is away and after it returns.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Frontend, RealBackend, WAIT, client, sign_up};

#[tokio::test]
async fn a_new_account_creates_and_lists_its_tasks_through_the_proxy() {
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let http = client();
    let (user_id, token) = sign_up(&http, &frontend.url).await;

    let me: Value = http
        .get(frontend.at("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["user"]["id"],
        user_id.as_str(),
        "/api/auth/me must name the new account"
    );

    let created = http
        .post(frontend.at(&format!("/api/{user_id}/tasks")))
        .bearer_auth(&token)
        .json(&json!({"title": "Buy groceries"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(
        created.headers().contains_key("location"),
        "the backend's Location header must pass"
    );

    let tasks: Value = http
        .get(frontend.at(&format!("/api/{user_id}/tasks?status=pending")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks[0]["title"], "Buy groceries");
}

#[tokio::test]
async fn the_backends_own_errors_pass_through_unchanged() {
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;

    let answer = client()
        .get(frontend.at("/api/someone/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        401,
        "no token is the backend's 401, not a proxy error"
    );
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["code"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn while_the_backend_is_away_calls_get_502_but_the_frontend_stays_ready_then_both_recover() {
    let mut backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let http = client();
    let (user_id, token) = sign_up(&http, &frontend.url).await;
    let tasks_url = frontend.at(&format!("/api/{user_id}/tasks"));
    let created = http
        .post(&tasks_url)
        .bearer_auth(&token)
        .json(&json!({"title": "Survive a restart"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let ready: Value = http
        .get(frontend.at("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready,
        json!({"status": "ready", "checks": {}, "backend": "ok"})
    );

    backend.stop().await;
    let answer = http
        .get(&tasks_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        502,
        "a stopped backend must give 502, not a hang"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "backend_unavailable");
    let ready = http.get(frontend.at("/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        200,
        "the UI can still be served: the frontend stays in its Service"
    );
    let ready: Value = ready.json().await.unwrap();
    assert!(
        ready["backend"]
            .as_str()
            .is_some_and(|problem| problem.contains("unreachable")),
        "readiness must still name the backend's state: {ready}"
    );
    assert_eq!(
        http.get(frontend.at("/")).send().await.unwrap().status(),
        200,
        "the page is served without a backend"
    );

    backend.restart().await;
    let started = tokio::time::Instant::now();
    loop {
        let ready: Value = http
            .get(frontend.at("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["backend"] == "ok" {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "readiness never reported the backend back: {ready}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tasks: Value = http
        .get(&tasks_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tasks[0]["title"], "Survive a restart",
        "the same data must be served after the return: {tasks}"
    );
}
