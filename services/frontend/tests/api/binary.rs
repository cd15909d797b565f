//! The `frontend` binary itself: JSON request logs on stdout, and a clean exit on SIGTERM.

use std::{process::Stdio, time::Duration};

use serde_json::Value;
use tokio::{io::AsyncReadExt, process::Command};

use crate::helpers::{WAIT, client, closed_port_url};

#[tokio::test]
async fn the_binary_logs_one_json_line_per_request_and_exits_cleanly_on_sigterm() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut frontend = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("BIND", "127.0.0.1")
        .env("BACKEND_URL", closed_port_url().await)
        .env("SHUTDOWN_GRACE_SECONDS", "5")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = client();
    let started = tokio::time::Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < WAIT,
            "the frontend binary did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = http
        .get(format!("{base}/api/user-77/tasks?status=all"))
        .header("x-request-id", "binary-log-test")
        .header("authorization", "Bearer secret-token-value")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        502,
        "the backend is not running in this test"
    );

    let pid = frontend.id().unwrap().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success(), "kill -TERM {pid} failed");
    let status = tokio::time::timeout(WAIT, frontend.wait())
        .await
        .expect("the frontend did not exit after SIGTERM")
        .unwrap();
    assert!(
        status.success(),
        "SIGTERM must end the frontend with status 0, got {status}"
    );

    let mut stdout = String::new();
    frontend
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert!(
        !stdout.contains("secret-token-value"),
        "a token must never be logged:\n{stdout}"
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect();
    let request = lines
        .iter()
        .find(|line| line["request_id"] == "binary-log-test")
        .unwrap_or_else(|| panic!("no log line for the request:\n{stdout}"));
    assert_eq!(request["method"], "GET");
    assert_eq!(request["route"], "/api/{*path}");
    assert_eq!(request["status"], 502);
    assert_eq!(request["user_id"], "user-77");
    assert!(
        request["latency_ms"].as_f64().is_some(),
        "latency_ms must be a number: {request}"
    );
    assert!(
        lines.iter().any(|line| line["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("shutdown signal received"))
            && line["delay_seconds"] == 0),
        "the signal and the (default, zero) delay must be logged:\n{stdout}"
    );
    assert!(
        lines.iter().any(|line| line["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("shutting down"))),
        "the drain must be logged:\n{stdout}"
    );
}
