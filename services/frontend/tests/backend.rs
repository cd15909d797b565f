//! The frontend in front of the REAL backend (SQLite, in-process): accounts and tasks through
//! the proxy, bodies over the limit, and what happens while the backend is away and after it
//! returns.

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

/// 4 MiB, four times the default `BODY_LIMIT_BYTES` of both services.
const FOUR_MIB: usize = 4 * 1024 * 1024;

/// 12 MiB: more than the loopback socket buffers take in, so a server that closed the
/// connection without reading the refused body would reset the upload (a 4 MiB body often
/// fits in the buffers and hides it).
const TWELVE_MIB: usize = 12 * 1024 * 1024;

/// A JSON task body of `size` bytes, sent with a Content-Length or chunked (a stream of
/// unknown length).
fn big_task(size: usize, chunked: bool) -> reqwest::Body {
    let mut json = br#"{"title": "big", "description": ""#.to_vec();
    json.resize(size - 2, b'x');
    json.extend_from_slice(b"\"}");
    if chunked {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            json.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        reqwest::Body::wrap_stream(futures::stream::iter(chunks))
    } else {
        reqwest::Body::from(json)
    }
}

/// Asserts a clean JSON 413 with the backend's message for a limit of `limit` bytes.
async fn assert_413(answer: reqwest::Response, limit: usize, what: &str) {
    assert_eq!(answer.status(), 413, "{what}");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large", "{what}: {body}");
    assert_eq!(
        body["detail"],
        format!("request body is larger than the limit of {limit} bytes"),
        "{what}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_through_the_frontend_gets_a_clean_413_with_a_length_or_chunked() {
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let http = client();
    let (user_id, token) = sign_up(&http, &frontend.url).await;
    let tasks_url = frontend.at(&format!("/api/{user_id}/tasks"));
    for chunked in [false, true] {
        let what = if chunked {
            "chunked"
        } else {
            "with Content-Length"
        };
        let post = http
            .post(&tasks_url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big_task(FOUR_MIB, chunked))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {what}: {e}"));
        assert_413(post, 1024 * 1024, &format!("POST {what}")).await;
        let put = http
            .put(format!("{tasks_url}/1"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big_task(TWELVE_MIB, chunked))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {what}: {e}"));
        assert_413(put, 1024 * 1024, &format!("PUT {what}")).await;
    }
    let small = http
        .post(&tasks_url)
        .bearer_auth(&token)
        .json(&json!({"title": "still fine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        small.status(),
        201,
        "the proxy serves on after the refusals"
    );
}

#[tokio::test]
async fn an_early_413_of_the_backend_is_relayed_not_reported_as_the_backend_down() {
    // The frontend allows more than the backend: the backend answers 413 before the upload ends.
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn_with(&backend.url, &[("BODY_LIMIT_BYTES", "16777216")]).await;
    let http = client();
    let (user_id, token) = sign_up(&http, &frontend.url).await;
    let tasks_url = frontend.at(&format!("/api/{user_id}/tasks"));
    for chunked in [false, true] {
        let what = if chunked {
            "chunked"
        } else {
            "with Content-Length"
        };
        let answer = http
            .post(&tasks_url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(big_task(TWELVE_MIB, chunked))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {what}: {e}"));
        assert_413(
            answer,
            1024 * 1024,
            &format!("the backend's own 413, {what}"),
        )
        .await;
    }
}
