//! The few plain-HTTP calls `--check` makes to containers on 127.0.0.1, each bounded.

use std::time::Duration;

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, body::Bytes, header};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A response, reduced to what the check looks at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

pub async fn get(url: &str, token: Option<&str>) -> anyhow::Result<Reply> {
    send(Method::GET, url, token, None).await
}

pub async fn post_json(url: &str, token: &str, body: &serde_json::Value) -> anyhow::Result<Reply> {
    send(Method::POST, url, Some(token), Some(body.to_string())).await
}

async fn send(
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<String>,
) -> anyhow::Result<Reply> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder().method(method.clone()).uri(url);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .with_context(|| format!("preparing {method} {url}"))?;
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.into_body().collect().await?.to_bytes();
        anyhow::Ok(Reply {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .with_context(|| {
            format!(
                "{method} {url} got no answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            )
        })?
        .with_context(|| format!("{method} {url}"))
}
