//! Keys published at a JWKS URL (Better Auth's `/api/auth/jwks`), fetched on demand and cached.

use std::time::{Duration, Instant};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, Jwk, JwkSet},
};
use tokio::sync::Mutex;

use super::TokenError;

/// How long a fetched key set is trusted before it is fetched again.
const CACHE_TTL: Duration = Duration::from_secs(600);
/// An unknown `kid` triggers a refetch, but at most this often (a bad token cannot make us
/// hammer the key server).
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed fetch, no new attempt for this long.
const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

struct Cached {
    keys: JwkSet,
    fetched_at: Instant,
}

/// A cached JWKS.
pub struct JwksCache {
    url: String,
    client: reqwest::Client,
    cached: Mutex<Option<Cached>>,
    /// When a fetch last failed: while the key server is down, tokens fail fast instead of
    /// each waiting for a fetch.
    last_failure: Mutex<Option<Instant>>,
}

impl JwksCache {
    /// Fails only when no TLS provider is installed (see `todo_service_kit::tls`).
    pub fn new(url: String) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build()?;
        Ok(Self {
            url,
            client,
            cached: Mutex::new(None),
            last_failure: Mutex::new(None),
        })
    }

    /// The key that verifies a token with this `kid` and algorithm.
    pub async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, TokenError> {
        let mut cached = self.cached.lock().await;
        let stale = cached
            .as_ref()
            .is_none_or(|c| c.fetched_at.elapsed() > CACHE_TTL);
        if stale {
            *cached = Some(self.fetch().await?);
        }
        if let Some(jwk) = cached.as_ref().and_then(|c| find(&c.keys, kid, alg)) {
            return key_from(jwk);
        }
        if cached
            .as_ref()
            .is_some_and(|c| c.fetched_at.elapsed() > MIN_REFETCH_INTERVAL)
        {
            *cached = Some(self.fetch().await?);
            if let Some(jwk) = cached.as_ref().and_then(|c| find(&c.keys, kid, alg)) {
                return key_from(jwk);
            }
        }
        Err(TokenError::Invalid(
            "no key in the JWKS matches the token".into(),
        ))
    }

    async fn fetch(&self) -> Result<Cached, TokenError> {
        let mut last_failure = self.last_failure.lock().await;
        if last_failure.is_some_and(|at| at.elapsed() < FAILURE_BACKOFF) {
            return Err(TokenError::Invalid(
                "the key set to verify it cannot be fetched".into(),
            ));
        }
        let fetched = self.fetch_now().await;
        *last_failure = fetched.is_err().then(Instant::now);
        fetched
    }

    async fn fetch_now(&self) -> Result<Cached, TokenError> {
        let unreachable = |e: reqwest::Error| {
            tracing::warn!(error = %e, url = %self.url, "cannot fetch the JWKS");
            TokenError::Invalid("the key set to verify it cannot be fetched".into())
        };
        let keys = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .json::<JwkSet>()
            .await
            .map_err(unreachable)?;
        Ok(Cached {
            keys,
            fetched_at: Instant::now(),
        })
    }
}

/// Only asymmetric keys of the token's family: a symmetric (`oct`) key in a JWKS is never used.
fn find<'a>(keys: &'a JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<&'a Jwk> {
    keys.keys.iter().find(|jwk| {
        let family_matches = matches!(
            (&jwk.algorithm, alg),
            (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
                | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256)
                | (AlgorithmParameters::RSA(_), Algorithm::RS256)
        );
        family_matches && (kid.is_none() || jwk.common.key_id.as_deref() == kid)
    })
}

fn key_from(jwk: &Jwk) -> Result<DecodingKey, TokenError> {
    DecodingKey::from_jwk(jwk).map_err(|e| TokenError::Invalid(format!("unusable JWKS key ({e})")))
}
