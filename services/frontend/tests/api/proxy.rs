//! The reverse proxy in front of a test upstream: what passes, what streams, what fails how.

use axum::body::Bytes;
use serde_json::Value;

use crate::helpers::{
    TestFrontend, Unaccepting, Upstream, WAIT, checksum, client, closed_port_url,
};

#[tokio::test]
async fn method_path_query_and_end_to_end_headers_reach_the_backend_unchanged() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;

    let answer = client()
        .put(frontend.url("/api/user-1/tasks/7?status=pending&sort=title"))
        .header("authorization", "Bearer some.jwt.value")
        .header("x-custom", "kept")
        .header("connection", "keep-alive, x-drop-me")
        .header("x-drop-me", "hop")
        .body("{\"title\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let seen: Value = answer.json().await.unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(
        seen["path_and_query"],
        "/api/user-1/tasks/7?status=pending&sort=title"
    );
    assert_eq!(
        seen["headers"]["authorization"], "Bearer some.jwt.value",
        "the token must reach the backend"
    );
    assert_eq!(seen["headers"]["x-custom"], "kept");
    assert!(
        seen["headers"].get("x-drop-me").is_none(),
        "a header named by Connection is hop-by-hop: {seen}"
    );
    assert_eq!(seen["body_len"], 13);
}

#[tokio::test]
async fn a_clients_request_id_reaches_the_backend_and_comes_back() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;

    let answer = client()
        .get(frontend.url("/api/anything"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.headers()["x-request-id"],
        "req-42",
        "the response must carry the caller's id"
    );
    let seen: Value = answer.json().await.unwrap();
    assert_eq!(
        seen["headers"]["x-request-id"], "req-42",
        "the backend must see the same id"
    );
}

#[tokio::test]
async fn a_request_without_an_id_gets_one_that_the_backend_sees_too() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;

    let answer = client()
        .get(frontend.url("/api/anything"))
        .send()
        .await
        .unwrap();
    let returned = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let seen: Value = answer.json().await.unwrap();
    assert_eq!(returned.len(), 36, "a created id is a UUID, got {returned}");
    assert_eq!(seen["headers"]["x-request-id"], returned.as_str());
}

#[tokio::test]
async fn forwarded_headers_name_the_client_the_scheme_and_the_original_host() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;

    let seen: Value = client()
        .get(frontend.url("/api/anything"))
        .header("host", "todo.example:8080")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "http");
    assert_eq!(seen["headers"]["x-forwarded-host"], "todo.example:8080");
    let backend_host = upstream.url.trim_start_matches("http://");
    assert_eq!(
        seen["headers"]["host"], backend_host,
        "Host must name the backend, not the frontend"
    );
}

#[tokio::test]
async fn a_large_body_streams_to_the_backend_intact() {
    let upstream = Upstream::spawn().await;
    let frontend =
        TestFrontend::spawn_with(&upstream.url, &[("BODY_LIMIT_BYTES", "4194304")]).await;
    let body: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();

    let seen: Value = client()
        .post(frontend.url("/api/upload"))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["body_len"], body.len(), "every byte must arrive");
    assert_eq!(
        seen["body_sum"],
        checksum(&body),
        "the bytes must arrive unchanged"
    );
}

#[tokio::test]
async fn the_backends_status_headers_and_body_come_back_as_they_were() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;

    let answer = client()
        .get(frontend.url("/api/teapot"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 418);
    assert_eq!(answer.headers()["x-upstream-says"], "short and stout");
    assert_eq!(answer.text().await.unwrap(), "tea");
}

#[tokio::test]
async fn server_sent_events_from_mcp_arrive_one_by_one_before_the_stream_ends() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;

    let mut answer = client()
        .get(frontend.url("/mcp"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/event-stream");

    for event in ["data: one\n\n", "data: two\n\n"] {
        upstream
            .events
            .send(Bytes::from_static(event.as_bytes()))
            .await
            .unwrap();
        // The stream is still open upstream: only streaming (not buffering) can deliver this.
        let chunk = tokio::time::timeout(WAIT, answer.chunk())
            .await
            .expect("the event never arrived")
            .unwrap();
        assert_eq!(
            chunk.as_deref(),
            Some(event.as_bytes()),
            "each event must arrive as it is sent"
        );
    }
    drop(upstream.events);
    let end = tokio::time::timeout(WAIT, answer.chunk())
        .await
        .expect("the end of the stream never arrived")
        .unwrap();
    assert_eq!(end, None, "the stream must end when the backend ends it");
}

#[tokio::test]
async fn an_unreachable_backend_gives_a_502_that_says_so_in_json() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;

    let answer = client()
        .get(frontend.url("/api/user-1/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    assert!(
        answer.headers().contains_key("x-request-id"),
        "errors carry the request id too"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "backend_unavailable");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{body}"
    );

    let metrics = client()
        .get(frontend.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("proxy_upstream_errors_total{kind=\"connect\"}"),
        "a connect failure must be counted:\n{metrics}"
    );
}

#[tokio::test]
async fn a_backend_slower_than_the_proxy_timeout_gives_a_504_not_a_hang() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn_with(&upstream.url, &[("PROXY_TIMEOUT_SECONDS", "1")]).await;

    let answer = client()
        .get(frontend.url("/api/slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 504);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "backend_timeout");
    assert_eq!(
        body["detail"], "the backend did not answer within 1 s (PROXY_TIMEOUT_SECONDS)",
        "the call's deadline fired, not the connect timeout"
    );

    let metrics = client()
        .get(frontend.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("proxy_upstream_errors_total{kind=\"timeout\"}"),
        "a timeout must be counted:\n{metrics}"
    );
}

#[tokio::test]
async fn a_backend_that_never_accepts_gives_a_504_naming_the_connect_timeout() {
    let unaccepting = Unaccepting::spawn().await;
    let frontend = TestFrontend::spawn(&unaccepting.url).await;

    let started = std::time::Instant::now();
    let answer = client()
        .get(frontend.url("/api/user-1/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 504);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "backend_timeout");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("connect") && detail.contains("within 5 s"),
        "the message must name the connect timeout that fired: {detail}"
    );
    assert!(
        !detail.contains("PROXY_TIMEOUT_SECONDS") && !detail.contains("30 s"),
        "the 30 s call deadline did not fire: {detail}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the connect timeout is 5 s, took {:?}",
        started.elapsed()
    );
}

/// A body of `size` bytes, with a Content-Length or chunked (a stream of unknown length).
fn body_of(size: usize, chunked: bool) -> reqwest::Body {
    let bytes = vec![b'x'; size];
    if chunked {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            bytes.chunks(1000).map(|c| Ok(c.to_vec())).collect();
        reqwest::Body::wrap_stream(futures::stream::iter(chunks))
    } else {
        reqwest::Body::from(bytes)
    }
}

#[tokio::test]
async fn a_body_over_the_frontends_limit_gets_the_backends_json_413_for_every_method() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn_with(&upstream.url, &[("BODY_LIMIT_BYTES", "4096")]).await;
    let http = client();
    for chunked in [false, true] {
        for method in [reqwest::Method::POST, reqwest::Method::PUT] {
            let what = format!("{method} (chunked: {chunked})");
            let answer = http
                .request(method.clone(), frontend.url("/api/upload"))
                .body(body_of(4097, chunked))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(answer.status(), 413, "{what}");
            assert_eq!(
                answer.headers()["content-type"],
                "application/json",
                "{what}"
            );
            let body: Value = answer.json().await.unwrap();
            assert_eq!(
                body,
                serde_json::json!({
                    "detail": "request body is larger than the limit of 4096 bytes",
                    "code": "payload_too_large",
                }),
                "{what}"
            );

            let at_the_limit: Value = http
                .request(method.clone(), frontend.url("/api/upload"))
                .body(body_of(4096, chunked))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(at_the_limit["body_len"], 4096, "{what}: {at_the_limit}");
        }
    }
}
