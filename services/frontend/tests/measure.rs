//! Measures for docs/performance.md, printed, not asserted on time (run them on purpose):
//!
//! ```text
//! cargo test --release -p todo-frontend --test measure -- --ignored --nocapture
//! ```
//!
//! - the proxy's added latency per API call: the same requests sent straight to the backend
//!   and through the frontend, interleaved, sequential, on keep-alive connections;
//! - the first load's size: the page and every asset it links, compressed as a browser asks.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use support::{Frontend, RealBackend, client, sign_up};

const ROUNDS: usize = 2000;
const WARM_UP: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn proxy_added_latency_per_api_call() {
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let http = client();
    let (user_id, token) = sign_up(&http, &frontend.url).await;
    for title in ["one", "two", "three"] {
        let url = format!("{}/api/{user_id}/tasks", backend.url);
        http.post(url)
            .bearer_auth(&token)
            .json(&serde_json::json!({"title": title}))
            .send()
            .await
            .unwrap();
    }

    let routes = [
        (
            "GET /api/{user_id}/tasks without a token (401, no database)",
            format!("/api/{user_id}/tasks"),
            None,
        ),
        (
            "GET /api/{user_id}/tasks with a token (200, 3 tasks from SQLite)",
            format!("/api/{user_id}/tasks"),
            Some(&token),
        ),
    ];
    println!(
        "proxy added latency, {ROUNDS} sequential requests each way, interleaved ({WARM_UP} warm-up):"
    );
    for (label, path, token) in routes {
        let direct_url = format!("{}{path}", backend.url);
        let proxied_url = frontend.at(&path);
        let mut direct = Vec::with_capacity(ROUNDS);
        let mut proxied = Vec::with_capacity(ROUNDS);
        for round in 0..WARM_UP + ROUNDS {
            let d = time_one(&http, &direct_url, token).await;
            let p = time_one(&http, &proxied_url, token).await;
            if round >= WARM_UP {
                direct.push(d);
                proxied.push(p);
            }
        }
        let (d50, d90, d99) = percentiles(&mut direct);
        let (p50, p90, p99) = percentiles(&mut proxied);
        println!("  {label}");
        println!(
            "    direct   p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms",
            ms(d50),
            ms(d90),
            ms(d99)
        );
        println!(
            "    proxied  p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms",
            ms(p50),
            ms(p90),
            ms(p99)
        );
        println!(
            "    added    p50 {:>7.3} ms  p90 {:>7.3} ms",
            ms(p50) - ms(d50),
            ms(p90) - ms(d90)
        );
    }
}

#[tokio::test]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn first_load_size() {
    let backend = RealBackend::spawn().await;
    let frontend = Frontend::spawn(&backend.url).await;
    let http = client();
    let html = http
        .get(frontend.at("/"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    let mut rows = vec![(
        "/".to_owned(),
        html.headers().get("content-encoding").is_some(),
    )];
    let page = html.bytes().await.unwrap();
    let mut total = page.len();
    let mut sizes = vec![page.len()];
    let text = http
        .get(frontend.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for asset in text
        .split('"')
        .filter(|piece| piece.starts_with("/assets/") && seen.insert(*piece))
    {
        let answer = http
            .get(frontend.at(asset))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .unwrap();
        rows.push((
            asset.to_owned(),
            answer.headers().get("content-encoding").is_some(),
        ));
        let body = answer.bytes().await.unwrap();
        total += body.len();
        sizes.push(body.len());
    }
    println!("first load, bodies as sent with Accept-Encoding: br, gzip:");
    for ((path, compressed), size) in rows.iter().zip(&sizes) {
        println!(
            "  {size:>7} B  {}{path}",
            if *compressed { "" } else { "(uncompressed) " }
        );
    }
    println!("  {total:>7} B  total ({:.1} KB)", total as f64 / 1024.0);
}

async fn time_one(http: &reqwest::Client, url: &str, token: Option<&String>) -> Duration {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let started = Instant::now();
    let answer = request.send().await.unwrap();
    answer.bytes().await.unwrap();
    started.elapsed()
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.9), at(0.99))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
