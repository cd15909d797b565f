//! Kept-alive connections that the backend closes just as a call is written on them (rolling
//! upgrades): idempotent calls are sent once more on a new connection, others are not.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::helpers::{TestFrontend, client};

/// A raw HTTP/1.1 backend with keep-alive that reads the `drop_nth` API request (1-based) in
/// full and then closes its connection without a byte of answer; it answers every other
/// request with 200 `{"method", "body_len", "body_sum"}`. `/readyz` (the frontend's probe)
/// always gets 200 and does not count.
struct FlakyBackend {
    url: String,
    /// Every API request received, dropped or answered: `METHOD path body_len`.
    seen: Arc<Mutex<Vec<String>>>,
    /// Connections accepted.
    connections: Arc<AtomicUsize>,
    _task: JoinHandle<()>,
}

impl FlakyBackend {
    async fn spawn(drop_nth: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (seen, connections) = (seen.clone(), connections.clone());
            async move {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    connections.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(serve_connection(stream, seen.clone(), drop_nth));
                }
            }
        });
        Self {
            url,
            seen,
            connections,
            _task: task,
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve_connection(stream: TcpStream, seen: Arc<Mutex<Vec<String>>>, drop_nth: usize) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; content_length];
        stream.read_exact(&mut body).await.unwrap();
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap(), parts.next().unwrap());
        if path.starts_with("/api/") {
            let number = {
                let mut seen = seen.lock().unwrap();
                seen.push(format!("{method} {path} {}", body.len()));
                seen.len()
            };
            if number == drop_nth {
                return; // closes the connection: no answer at all
            }
        }
        let answer = serde_json::json!({
            "method": method,
            "body_len": body.len(),
            "body_sum": crate::helpers::checksum(&body),
        })
        .to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            answer.len()
        );
        let socket = stream.get_mut();
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(answer.as_bytes()).await.unwrap();
    }
}

#[tokio::test]
async fn a_get_whose_connection_closes_unanswered_is_retried_once_on_a_new_connection() {
    let backend = FlakyBackend::spawn(1).await;
    let frontend = TestFrontend::spawn(&backend.url).await;

    let answer = client()
        .get(frontend.url("/api/user-1/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "the retry's answer, not a 502");
    assert_eq!(answer.json::<Value>().await.unwrap()["method"], "GET");
    assert_eq!(
        backend.seen(),
        ["GET /api/user-1/tasks 0", "GET /api/user-1/tasks 0"],
        "sent exactly twice"
    );
}

#[tokio::test]
async fn a_put_on_a_kept_alive_connection_the_backend_closed_is_retried_with_its_whole_body() {
    let backend = FlakyBackend::spawn(2).await;
    let frontend = TestFrontend::spawn(&backend.url).await;
    let http = client();

    let first = http
        .get(frontend.url("/api/user-1/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    first.bytes().await.unwrap();
    let connections_before = backend.connections.load(Ordering::SeqCst);

    let body = vec![b'p'; 300 * 1024];
    let answer = http
        .put(frontend.url("/api/user-1/tasks/7"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "the retry's answer, not a 502");
    let seen: Value = answer.json().await.unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["body_len"], body.len(), "the whole body is sent again");
    assert_eq!(seen["body_sum"], crate::helpers::checksum(&body));
    assert_eq!(
        backend.seen()[1..],
        [
            "PUT /api/user-1/tasks/7 307200",
            "PUT /api/user-1/tasks/7 307200"
        ]
    );
    assert!(
        backend.connections.load(Ordering::SeqCst) > connections_before,
        "the retry goes over a new connection"
    );
}

#[tokio::test]
async fn a_post_whose_connection_closes_unanswered_is_not_retried() {
    let backend = FlakyBackend::spawn(1).await;
    let frontend = TestFrontend::spawn(&backend.url).await;

    let answer = client()
        .post(frontend.url("/api/user-1/chat"))
        .body("{\"message\":\"add milk\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502, "a POST may have had its effect");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "bad_gateway");
    assert_eq!(backend.seen(), ["POST /api/user-1/chat 22"], "sent once");
}
