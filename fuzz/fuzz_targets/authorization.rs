//! The Authorization header and the bearer token, through the whole application: a raw header
//! of any bytes, or a token whose header and claims are any JSON, signed with the backend's
//! real secret (so the checks after the signature run too). No input gets a 5xx; a raw header
//! never opens the user's tasks, and a signed token opens them only when its header says HS256
//! and its claims name the user (`sub`) and a time still to come (`exp`).

#![no_main]

use arbitrary::Arbitrary;
use axum::{
    body::Body,
    http::{HeaderValue, Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use todo_fuzz::{SECRET, backend};

#[derive(Debug, Arbitrary)]
enum Credentials<'a> {
    /// The header's value as sent.
    Raw(&'a [u8]),
    /// `Bearer` and a token built from this JOSE header and these claims, correctly signed.
    Signed { header: &'a str, claims: &'a str },
}

fuzz_target!(|credentials: Credentials<'_>| {
    let backend = backend();
    let (value, signed) = match credentials {
        Credentials::Raw(bytes) => (bytes.to_vec(), None),
        Credentials::Signed { header, claims } => {
            let message = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let key = EncodingKey::from_secret(SECRET.as_bytes());
            let Ok(signature) =
                jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
            else {
                return;
            };
            (
                format!("Bearer {message}.{signature}").into_bytes(),
                Some((header, claims)),
            )
        }
    };
    let Ok(value) = HeaderValue::from_bytes(&value) else {
        return; // Not a header value: no HTTP client could send it.
    };
    let request = Request::get(format!("/api/{}/tasks", backend.user_id))
        .header("authorization", value)
        .body(Body::empty())
        .expect("a valid request");
    let (status, body) = backend.call(request);
    match status {
        StatusCode::OK => {
            let Some((header, claims)) = signed else {
                panic!(
                    "a header not signed with the secret opened the tasks: {}",
                    String::from_utf8_lossy(&body)
                );
            };
            let header: serde_json::Value = serde_json::from_str(header).expect("a JSON header");
            let claims: serde_json::Value = serde_json::from_str(claims).expect("JSON claims");
            assert_eq!(header["alg"], "HS256", "accepted with header {header}");
            assert_eq!(
                claims["sub"],
                backend.user_id.as_str(),
                "accepted with claims {claims}"
            );
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            assert!(
                claims["exp"].as_f64().is_some_and(|exp| exp > now as f64),
                "accepted with claims {claims}"
            );
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {}
        other => panic!(
            "a credential got {other}, not 200, 401 or 403: {}",
            String::from_utf8_lossy(&body)
        ),
    }
});
