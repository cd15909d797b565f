//! The embedded UI: caching, compression, content types and the security policy.

use std::io::Read;

use crate::helpers::{TestFrontend, client, closed_port_url};

/// The `/assets/{version}/…` URLs that the page links.
fn linked_assets(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|piece| piece.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_page_is_revalidated_on_every_load_and_locked_down_by_its_csp() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let answer = client().get(frontend.url("/")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let headers = answer.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(
        headers.contains_key("etag"),
        "the page needs an ETag to be revalidated cheaply"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self';"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = answer.text().await.unwrap();
    assert!(html.contains("<main"), "the page must have a main landmark");
}

#[tokio::test]
async fn an_unchanged_page_answers_304_to_its_etag() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let http = client();
    let first = http
        .get(frontend.url("/"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    let again = http
        .get(frontend.url("/"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty(), "a 304 has no body");
}

#[tokio::test]
async fn linked_assets_are_immutable_typed_and_compressed_as_the_client_accepts() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let http = client();
    let html = http
        .get(frontend.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let assets = linked_assets(&html);
    assert!(
        assets.iter().any(|a| a.ends_with("/app.js"))
            && assets.iter().any(|a| a.ends_with("/app.css")),
        "{assets:?}"
    );

    for asset in &assets {
        let plain = http.get(frontend.url(asset)).send().await.unwrap();
        assert_eq!(plain.status(), 200, "{asset}");
        assert_eq!(
            plain.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{asset}"
        );
        let expected_type = match asset.rsplit('.').next().unwrap() {
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "svg" => "image/svg+xml",
            other => panic!("unexpected asset type {other}"),
        };
        assert_eq!(plain.headers()["content-type"], expected_type, "{asset}");
        assert!(
            plain.headers().get("content-encoding").is_none(),
            "no encoding was accepted for {asset}"
        );
        let original = plain.bytes().await.unwrap();

        let gzipped = http
            .get(frontend.url(asset))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{asset}");
        assert_eq!(gzipped.headers()["vary"], "accept-encoding", "{asset}");
        let compressed = gzipped.bytes().await.unwrap();
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(
            unpacked, original,
            "the gzip variant of {asset} must hold the same content"
        );

        let brotli = http
            .get(frontend.url(asset))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(
            brotli.headers()["content-encoding"],
            "br",
            "brotli is preferred when accepted ({asset})"
        );
    }
}

#[tokio::test]
async fn an_asset_of_another_version_or_an_unknown_path_is_a_json_404() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let http = client();
    for path in [
        "/assets/0000000000/app.js",
        "/assets/x/../index.html",
        "/nothing-here",
    ] {
        let answer = http.get(frontend.url(path)).send().await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn the_first_load_stays_under_its_100_kb_budget_when_compressed() {
    let frontend = TestFrontend::spawn(&closed_port_url().await).await;
    let http = client();
    let page = http
        .get(frontend.url("/"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    let mut total = page.bytes().await.unwrap().len();
    let html = http
        .get(frontend.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for asset in linked_assets(&html) {
        let answer = http
            .get(frontend.url(&asset))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        total += answer.bytes().await.unwrap().len();
    }
    assert!(
        total < 100 * 1024,
        "the first load is {total} bytes compressed; the budget is 100 KB"
    );
}
