//! Authentication: bearer tokens (HS256 with the shared secret, optionally JWKS), the
//! request extractors that enforce them, password hashing, and sign-in throttling.

pub mod extract;
pub mod jwks;
pub mod password;
pub mod throttle;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use todo_config::{AuthMode, BackendConfig};

pub use extract::{AuthUser, Authorized};

/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECONDS: u64 = 5;

/// The claims this service reads from a token and writes into the ones it issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch (required).
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Why a token was refused; every variant is a 401 whose message says which.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired; sign in again")]
    Expired,
    #[error("the token's algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

/// Issues and verifies bearer tokens.
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    token_ttl: Duration,
    jwks: Option<jwks::JwksCache>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("token_ttl", &self.token_ttl)
            .field("jwks", &self.jwks.is_some())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Fails only when the JWKS client cannot be built (no TLS provider installed).
    pub fn new(config: &BackendConfig) -> anyhow::Result<Self> {
        let secret = config.auth_secret.expose().as_bytes();
        let jwks = match &config.auth_mode {
            AuthMode::SharedSecret => None,
            AuthMode::SharedSecretAndJwks { jwks_url } => Some(
                jwks::JwksCache::new(jwks_url.clone())
                    .map_err(|e| anyhow::anyhow!("building the JWKS client: {e}"))?,
            ),
        };
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            token_ttl: config.token_ttl,
            jwks,
        })
    }

    /// A signed HS256 token for the user, valid for the configured lifetime.
    pub fn issue(
        &self,
        user_id: &str,
        email: Option<&str>,
        name: Option<&str>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = unix_now();
        let claims = Claims {
            sub: user_id.to_owned(),
            exp: now + self.token_ttl.as_secs(),
            iat: Some(now),
            email: email.map(str::to_owned),
            name: name.map(str::to_owned),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Verifies a token: HS256 with the shared secret, or (when configured) EdDSA/ES256/RS256
    /// against the JWKS. `exp` and `sub` are required; any other algorithm is refused.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenError::Invalid(format!("malformed header ({e})")))?;
        match header.alg {
            Algorithm::HS256 => decode(token, &self.decoding, Algorithm::HS256),
            alg @ (Algorithm::EdDSA | Algorithm::ES256 | Algorithm::RS256) => {
                let Some(jwks) = &self.jwks else {
                    return Err(TokenError::Algorithm(format!("{alg:?}")));
                };
                let key = jwks.key_for(header.kid.as_deref(), alg).await?;
                decode(token, &key, alg)
            }
            other => Err(TokenError::Algorithm(format!("{other:?}"))),
        }
    }
}

fn decode(token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Claims, TokenError> {
    let mut validation = Validation::new(alg);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm(format!("{alg:?}")),
                ErrorKind::InvalidSignature => TokenError::Invalid("bad signature".into()),
                ErrorKind::MissingRequiredClaim(claim) => {
                    TokenError::Invalid(format!("the `{claim}` claim is missing"))
                }
                other => TokenError::Invalid(format!("{other:?}")),
            }
        })
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use todo_config::MapEnv;

    fn authenticator() -> Authenticator {
        let config = BackendConfig::from_env(&MapEnv::new([(
            "BETTER_AUTH_SECRET",
            "test-secret-test-secret-test-secret-0",
        )]))
        .unwrap();
        Authenticator::new(&config).unwrap()
    }

    #[tokio::test]
    async fn issued_tokens_verify_and_carry_the_user() {
        let auth = authenticator();
        let token = auth.issue("user-1", Some("a@b.c"), None).unwrap();
        let claims = auth.verify(&token).await.unwrap();
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.email.as_deref(), Some("a@b.c"));
    }

    #[tokio::test]
    async fn alg_none_and_hs512_are_refused() {
        let auth = authenticator();
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1IiwiZXhwIjo5OTk5OTk5OTk5fQ.";
        assert!(auth.verify(none).await.is_err(), "alg none must be refused");
        let claims = Claims {
            sub: "u".into(),
            exp: unix_now() + 60,
            iat: None,
            email: None,
            name: None,
        };
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0"),
        )
        .unwrap();
        assert!(matches!(
            auth.verify(&hs512).await,
            Err(TokenError::Algorithm(_))
        ));
    }
}
