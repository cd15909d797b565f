//! The UI's files, embedded at build time (see `build.rs`) and served pre-compressed:
//! `index.html` revalidated on every load (ETag), everything else under a content-hashed URL
//! cached for a year.

use axum::{
    body::Body,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::error::FrontendError;

/// One embedded file with its pre-compressed variants.
#[derive(Debug)]
pub struct EmbeddedAsset {
    pub name: &'static str,
    pub content_type: &'static str,
    /// A strong ETag of the uncompressed content, quoted.
    pub etag: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

/// Only our own origin may provide scripts, styles, images and connections; no inline code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub fn find(name: &str) -> Option<&'static EmbeddedAsset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

/// `/` and `/index.html`: the page, revalidated every time so a new release is seen at once.
pub async fn index(request_headers: HeaderMap) -> Response {
    match find("index.html") {
        Some(page) => {
            let mut response = serve(page, &request_headers, REVALIDATE);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            response
        }
        None => FrontendError::NotFound("index.html".to_owned()).into_response(),
    }
}

/// `/assets/{version}/{name}`: only the current version exists; its files never change.
pub async fn asset(
    Path((version, name)): Path<(String, String)>,
    request_headers: HeaderMap,
) -> Response {
    match find(&name) {
        Some(asset) if version == ASSET_VERSION && asset.name != "index.html" => {
            serve(asset, &request_headers, IMMUTABLE)
        }
        _ => FrontendError::NotFound(format!("/assets/{version}/{name}")).into_response(),
    }
}

/// The best variant the client accepts, or 304 when its copy is current.
fn serve(
    asset: &'static EmbeddedAsset,
    request_headers: &HeaderMap,
    cache_control: &'static str,
) -> Response {
    let accepted = AcceptedEncodings::from_headers(request_headers);
    let (bytes, encoding, etag_suffix) = match (asset.brotli, asset.gzip) {
        (Some(bytes), _) if accepted.brotli => (bytes, Some("br"), "br"),
        (_, Some(bytes)) if accepted.gzip => (bytes, Some("gzip"), "gz"),
        _ => (asset.identity, None, ""),
    };
    let etag = match encoding {
        Some(_) => format!("{}.{etag_suffix}\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.to_owned(),
    };

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if is_current(request_headers, asset.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    (headers, Body::from(bytes)).into_response()
}

/// True when `If-None-Match` names any variant of the asset's content.
fn is_current(request_headers: &HeaderMap, etag: &str) -> bool {
    let base = etag.trim_matches('"');
    request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|tag| tag == "*" || tag == base || tag.split_once('.').is_some_and(|(b, _)| b == base))
}

/// Which compressions `Accept-Encoding` allows (a `q=0` refuses one).
#[derive(Debug, Default, PartialEq)]
struct AcceptedEncodings {
    brotli: bool,
    gzip: bool,
}

impl AcceptedEncodings {
    fn from_headers(headers: &HeaderMap) -> Self {
        let mut accepted = Self::default();
        let offers = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','));
        for offer in offers {
            let mut parts = offer.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>() == Ok(0.0))
            });
            match name.as_str() {
                "br" => accepted.brotli = !refused,
                "gzip" => accepted.gzip = !refused,
                _ => {}
            }
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn accept_encoding_is_read_with_its_refusals() {
        let both = AcceptedEncodings::from_headers(&headers(&[(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br;q=0.9",
        )]));
        assert_eq!(
            both,
            AcceptedEncodings {
                brotli: true,
                gzip: true
            }
        );
        let no_br =
            AcceptedEncodings::from_headers(&headers(&[(header::ACCEPT_ENCODING, "br;q=0, gzip")]));
        assert_eq!(
            no_br,
            AcceptedEncodings {
                brotli: false,
                gzip: true
            },
            "q=0 refuses brotli"
        );
        assert_eq!(
            AcceptedEncodings::from_headers(&HeaderMap::new()),
            AcceptedEncodings::default()
        );
    }

    #[test]
    fn every_text_asset_is_embedded_with_a_smaller_compressed_variant() {
        for asset in ASSETS
            .iter()
            .filter(|a| !a.content_type.starts_with("image/png"))
        {
            let brotli = asset
                .brotli
                .unwrap_or_else(|| panic!("{} has no brotli variant", asset.name));
            assert!(
                brotli.len() < asset.identity.len(),
                "{}: brotli must save bytes",
                asset.name
            );
            assert!(asset.gzip.is_some(), "{} has no gzip variant", asset.name);
        }
        assert!(find("index.html").is_some(), "index.html must be embedded");
    }

    #[test]
    fn index_html_links_assets_under_the_current_version_only() {
        let html = std::str::from_utf8(find("index.html").unwrap().identity).unwrap();
        assert!(
            !html.contains("{{"),
            "every placeholder of index.html must be filled"
        );
        let prefix = format!("/assets/{ASSET_VERSION}/");
        assert!(
            html.contains(&format!("{prefix}app.js")),
            "the entry module must use the hashed URL"
        );
        assert!(
            html.contains(&format!("{prefix}app.css")),
            "the stylesheet must use the hashed URL"
        );
    }

    #[test]
    fn an_if_none_match_of_any_variant_means_current() {
        let etag = "\"abc\"";
        assert!(is_current(
            &headers(&[(header::IF_NONE_MATCH, "\"abc.br\"")]),
            etag
        ));
        assert!(is_current(
            &headers(&[(header::IF_NONE_MATCH, "W/\"abc\"")]),
            etag
        ));
        assert!(!is_current(
            &headers(&[(header::IF_NONE_MATCH, "\"abd\"")]),
            etag
        ));
        assert!(!is_current(&HeaderMap::new(), etag));
    }
}
