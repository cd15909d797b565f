//! Built-in accounts: `POST /api/auth/sign-up`, `POST /api/auth/sign-in`, `GET /api/auth/me`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Extension, Json,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::{AuthUser, password},
    db::{self, users::User},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

/// Shortest and longest accepted password, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
const MAX_EMAIL_CHARS: usize = 254;
const MAX_NAME_CHARS: usize = 100;

/// The account routes, each with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(sign_in))
        .routes(routes!(me))
}

/// Body of `POST /api/auth/sign-up`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignUp {
    /// `local@domain.tld`, at most 254 characters; trimmed and lower-cased.
    #[schema(
        max_length = 254,
        pattern = r"^[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^@.\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^@\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@.\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    email: String,
    /// 8–128 characters.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// At most 100 characters; trimmed, a blank one is no name.
    #[serde(default)]
    #[schema(max_length = 100)]
    name: Option<String>,
}

/// Body of `POST /api/auth/sign-in`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignIn {
    email: String,
    password: String,
}

/// A user and a bearer token for them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub user: User,
    /// HS256 JWT to send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// The user a token belongs to. Users of an external Better Auth server have no row here:
/// their id, email and name come from the token and `created_at` is null.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: MeUser,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeUser {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Trims and lower-cases an email and checks its shape.
fn normalise_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let well_formed = raw.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if well_formed {
        Ok(email)
    } else {
        Err(ApiError::Validation(format!(
            "`{}` is not a valid email address",
            raw.trim()
        )))
    }
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/api/auth/sign-up", tag = "auth", request_body = SignUp,
    responses((status = 201, body = Session), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sign_up(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let email = normalise_email(&body.email)?;
    let chars = body.password.chars().count();
    if !PASSWORD_CHARS.contains(&chars) {
        return Err(ApiError::Validation(format!(
            "the password must be {} to {} characters long",
            PASSWORD_CHARS.start(),
            PASSWORD_CHARS.end()
        )));
    }
    if body
        .name
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        return Err(ApiError::Validation(format!(
            "the name must be at most {MAX_NAME_CHARS} characters long"
        )));
    }
    let name = body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let hash = password::hash(body.password)
        .await
        .map_err(ApiError::Internal)?;
    let user = db::users::create(&state.db, &email, name, &hash).await?;
    let token = issue(&state, &user)?;
    Ok((StatusCode::CREATED, Json(Session { user, token })))
}

/// Signs in with email and password. A wrong password and an unknown email get the same 401;
/// repeated failures get 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Session), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Json<Session>, ApiError> {
    let email = body.email.trim().to_lowercase();
    let address = client_address(&headers, connect_info.map(|Extension(ConnectInfo(a))| a));
    if let Some(retry_after) = state.sign_in_throttle.check(&email, &address) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let found = db::users::find_by_email(&state.db, &email).await?;
    let stored_hash = found.as_ref().and_then(|f| f.password_hash.clone());
    let matches = password::verify(body.password, stored_hash)
        .await
        .map_err(ApiError::Internal)?;
    match found {
        Some(found) if matches => {
            state.sign_in_throttle.record_success(&email);
            let token = issue(&state, &found.user)?;
            Ok(Json(Session {
                user: found.user,
                token,
            }))
        }
        _ => {
            state.sign_in_throttle.record_failure(&email, &address);
            Err(ApiError::Unauthorized("wrong email or password".into()))
        }
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Me>, ApiError> {
    let user = match db::users::get(&state.db, &auth.user_id).await? {
        Some(user) => MeUser {
            id: user.id,
            email: Some(user.email),
            name: user.name,
            created_at: Some(user.created_at),
        },
        None => MeUser {
            id: auth.user_id,
            email: auth.claims.email,
            name: auth.claims.name,
            created_at: None,
        },
    };
    Ok(Json(Me { user }))
}

fn issue(state: &AppState, user: &User) -> Result<String, ApiError> {
    state
        .auth
        .issue(&user.id, Some(&user.email), user.name.as_deref())
        .map_err(ApiError::internal)
}

/// The client's address for throttling: the peer, or, when the peer is a private or loopback
/// address (a proxy such as the frontend or an ingress), the first `X-Forwarded-For` entry.
fn client_address(headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let peer_ip = peer.map(|p| p.ip());
    let behind_proxy = peer_ip.is_none_or(|ip| match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
    });
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| v.parse::<IpAddr>().is_ok());
    match (behind_proxy, forwarded, peer_ip) {
        (true, Some(forwarded), _) => forwarded.to_owned(),
        (_, _, Some(ip)) => ip.to_string(),
        _ => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The sign-up email's pattern and length in the OpenAPI document accept exactly what
    /// [`normalise_email`] accepts, over many strings made of the characters that matter.
    #[test]
    fn the_documented_email_pattern_is_what_the_server_accepts() {
        let document = serde_json::to_value(crate::openapi::document()).unwrap();
        let email = &document["components"]["schemas"]["SignUp"]["properties"]["email"];
        let pattern = regex::Regex::new(email["pattern"].as_str().unwrap()).unwrap();
        let max = usize::try_from(email["maxLength"].as_u64().unwrap()).unwrap();
        let alphabet = [
            'a', 'B', '@', '.', ' ', '\t', '\n', '\u{a0}', '\u{2028}', '\u{1f}', 'é', '-',
        ];
        // A small linear congruential generator: the same strings on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap() % bound
        };
        let mut accepted = 0;
        for _ in 0..200_000 {
            let length = next(10);
            let candidate: String = (0..length)
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let documented = pattern.is_match(&candidate) && candidate.chars().count() <= max;
            let served = normalise_email(&candidate).is_ok();
            assert_eq!(documented, served, "{candidate:?}");
            accepted += usize::from(served);
        }
        assert!(
            accepted > 100,
            "the sample reaches valid addresses too: {accepted}"
        );
        let long = format!("{}@example.org", "a".repeat(max - 11));
        assert_eq!(long.chars().count(), max + 1);
        assert!(
            normalise_email(&long).is_err() && pattern.is_match(&long),
            "the length is the limit"
        );
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.ORG ").unwrap(),
            "ada@example.org"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a b@example.org",
            "a@b@c.io",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_private_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.7, 10.0.0.2".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let public: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        assert_eq!(client_address(&headers, Some(proxy)), "203.0.113.7");
        assert_eq!(client_address(&headers, Some(public)), "198.51.100.1");
    }
}
