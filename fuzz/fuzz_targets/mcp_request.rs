//! The MCP endpoint's handling of a request body: any bytes POSTed to `/mcp` by an
//! authenticated client (JSON-RPC requests, notifications, batches, tool calls with any
//! arguments, or not JSON at all). No input gets a 5xx, a panic, or a JSON-RPC internal error
//! (-32603: what the server answers, with HTTP 200, when a tool fails inside). `$USER` in the
//! body becomes the caller's own id, so tool calls get past the ownership check to the
//! database.

#![no_main]

use axum::{body::Body, http::Request};
use libfuzzer_sys::fuzz_target;
use todo_fuzz::backend;

fuzz_target!(|body: &[u8]| {
    let backend = backend();
    let request = Request::post("/mcp")
        .header("authorization", format!("Bearer {}", backend.token))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(Body::from(with_caller(body, &backend.user_id)))
        .expect("a valid request");
    let (_, body) = backend.call(request);
    if let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&body) {
        let answers = match answer {
            serde_json::Value::Array(batch) => batch,
            single => vec![single],
        };
        for answer in &answers {
            assert_ne!(
                answer
                    .pointer("/error/code")
                    .and_then(serde_json::Value::as_i64),
                Some(INTERNAL_ERROR),
                "an internal error: {answer}"
            );
        }
    }
});

/// JSON-RPC's code for a failure inside the server.
const INTERNAL_ERROR: i64 = -32603;

/// `body` with every `$USER` replaced by `user_id`.
fn with_caller(body: &[u8], user_id: &str) -> Vec<u8> {
    const PLACEHOLDER: &[u8] = b"$USER";
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest
        .windows(PLACEHOLDER.len())
        .position(|w| w == PLACEHOLDER)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(user_id.as_bytes());
        rest = &rest[at + PLACEHOLDER.len()..];
    }
    out.extend_from_slice(rest);
    out
}
