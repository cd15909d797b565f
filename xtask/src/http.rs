//! The xtask's HTTP: one client (reqwest) for the calls its checks make to the services, and
//! one bounded wait for a URL to answer 2xx, used by everything that starts a server.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long one request may take; the slowest is a chat turn on a debug build.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one readiness poll may take before it counts as "no answer yet".
const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// A client with the request bound every xtask call has.
pub fn client() -> anyhow::Result<reqwest::Client> {
    client_with_timeout(REQUEST_TIMEOUT)
}

/// A client whose every request ends, answered or not, within `timeout`.
pub fn client_with_timeout(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    // `main` installs the process's TLS provider; tests start here without it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Every call goes to a server this xtask started or a node it deployed to, never through
    // the user's HTTP proxy (which would not reach 127.0.0.1).
    reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .context("building the HTTP client")
}

/// An answer, reduced to what the checks look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("the answer is not JSON: {}", self.body))
    }
}

/// GET `url`, with a bearer token if given.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<Reply> {
    send(client, reqwest::Method::GET, url, token, None).await
}

/// POST a JSON body to `url` with a bearer token.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> anyhow::Result<Reply> {
    send(client, reqwest::Method::POST, url, token, Some(body)).await
}

/// Sends one request and reads its whole answer.
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> anyhow::Result<Reply> {
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let exchange = async {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await?;
        anyhow::Ok(Reply {
            status,
            content_type,
            body,
        })
    };
    exchange.await.with_context(|| format!("{method} {url}"))
}

/// Polls `url` every `every` until it answers 2xx, and returns how long that took. Gives up
/// after `limit`, saying what the last poll got, or at once when `gone` fails: the process or
/// container that should answer has exited, and its error says so.
pub async fn wait_until_ok(
    client: &reqwest::Client,
    url: &str,
    limit: Duration,
    every: Duration,
    mut gone: impl AsyncFnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let last = match client.get(url).timeout(POLL_TIMEOUT).send().await {
            Ok(response) if response.status().is_success() => return Ok(started.elapsed()),
            Ok(response) => format!("it answered {}", response.status()),
            Err(err) => format!("{:#}", anyhow::Error::from(err)),
        };
        gone().await?;
        if started.elapsed() > limit {
            bail!(
                "{url} did not answer 2xx within {} s (last: {last})",
                limit.as_secs_f64()
            );
        }
        tokio::time::sleep(every).await;
    }
}

/// For [`wait_until_ok`] when nothing can tell that the server is gone.
pub async fn never_gone() -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on 127.0.0.1 that answers 503 to its first `failures` requests, then 200.
    async fn flaky_server(failures: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut served = 0;
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buffer = vec![0_u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let status = if served < failures {
                    "503 Service Unavailable"
                } else {
                    "200 OK"
                };
                served += 1;
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        format!("http://127.0.0.1:{port}/readyz")
    }

    #[test]
    fn the_wait_ends_at_the_first_2xx() {
        crate::runtime::block_on(async {
            let url = flaky_server(3).await;
            let client = client().unwrap();
            let every = Duration::from_millis(10);
            wait_until_ok(&client, &url, Duration::from_secs(10), every, never_gone)
                .await
                .unwrap();
        })
        .unwrap();
    }

    #[test]
    fn the_wait_gives_up_at_its_limit_and_says_what_it_last_got() {
        crate::runtime::block_on(async {
            let url = flaky_server(usize::MAX).await;
            let client = client().unwrap();
            let every = Duration::from_millis(10);
            let err = wait_until_ok(&client, &url, Duration::from_millis(200), every, never_gone)
                .await
                .unwrap_err();
            let message = format!("{err:#}");
            assert!(
                message.contains("did not answer 2xx within 0.2 s"),
                "{message}"
            );
            assert!(message.contains("503"), "{message}");
        })
        .unwrap();
    }

    #[test]
    fn the_wait_stops_at_once_when_the_server_is_gone() {
        crate::runtime::block_on(async {
            let url = flaky_server(usize::MAX).await;
            let client = client().unwrap();
            let started = Instant::now();
            let err = wait_until_ok(
                &client,
                &url,
                Duration::from_secs(30),
                Duration::from_millis(10),
                async || bail!("the server exited with code 3"),
            )
            .await
            .unwrap_err();
            assert!(format!("{err:#}").contains("exited with code 3"));
            assert!(started.elapsed() < Duration::from_secs(5));
        })
        .unwrap();
    }

    #[test]
    fn a_reply_reads_status_type_and_body() {
        crate::runtime::block_on(async {
            let url = flaky_server(0).await;
            let reply = get(&client().unwrap(), &url, Some("token")).await.unwrap();
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body, "ok");
            assert!(reply.json().is_err(), "`ok` is not JSON");
        })
        .unwrap();
    }
}
