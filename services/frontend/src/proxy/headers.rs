//! Which headers cross the proxy: end-to-end ones both ways, never hop-by-hop ones (RFC 9110
//! §7.6.1), plus `x-forwarded-*` on the way in.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The request's end-to-end headers, plus `x-forwarded-*`; `Host` becomes the backend's.
pub fn upstream_headers(incoming: &HeaderMap, peer: Option<SocketAddr>) -> HeaderMap {
    let mut headers = end_to_end(incoming);
    headers.remove(header::HOST);

    if let Some(peer) = peer {
        let chain = match incoming.get(&FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {}", peer.ip()),
            None => peer.ip().to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&chain) {
            headers.insert(FORWARDED_FOR, value);
        }
    }
    // An ingress in front of us knows the real scheme and host; keep what it says.
    if !headers.contains_key(&FORWARDED_PROTO) {
        headers.insert(FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if let (false, Some(host)) = (
        headers.contains_key(&FORWARDED_HOST),
        incoming.get(header::HOST),
    ) {
        headers.insert(FORWARDED_HOST, host.clone());
    }
    headers
}

/// The backend's end-to-end headers, for the client.
pub fn downstream_headers(upstream: &HeaderMap) -> HeaderMap {
    end_to_end(upstream)
}

/// `headers` without hop-by-hop headers, including any that `Connection` names.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = headers.clone();
    for name in HOP_BY_HOP.iter() {
        kept.remove(name);
    }
    kept.remove("proxy-connection");
    for name in named_by_connection {
        kept.remove(name.as_str());
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_by_connection_are_dropped() {
        let mut incoming = HeaderMap::new();
        incoming.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        incoming.insert("x-secret-hop", HeaderValue::from_static("1"));
        incoming.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        incoming.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        incoming.insert(header::HOST, HeaderValue::from_static("todo.example:3000"));
        let out = upstream_headers(&incoming, Some("10.0.0.7:5555".parse().unwrap()));
        assert!(
            out.get("x-secret-hop").is_none(),
            "a header named by Connection must not pass"
        );
        assert!(out.get(header::TRANSFER_ENCODING).is_none());
        assert!(
            out.get(header::HOST).is_none(),
            "Host must become the backend's"
        );
        assert_eq!(
            out[header::AUTHORIZATION],
            "Bearer t",
            "end-to-end headers pass"
        );
        assert_eq!(out["x-forwarded-for"], "10.0.0.7");
        assert_eq!(out["x-forwarded-host"], "todo.example:3000");
        assert_eq!(out["x-forwarded-proto"], "http");
    }

    #[test]
    fn an_earlier_forwarded_chain_is_extended_and_an_ingress_scheme_kept() {
        let mut incoming = HeaderMap::new();
        incoming.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        incoming.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let out = upstream_headers(&incoming, Some("10.0.0.7:5555".parse().unwrap()));
        assert_eq!(out["x-forwarded-for"], "203.0.113.9, 10.0.0.7");
        assert_eq!(out["x-forwarded-proto"], "https");
    }
}
