//! Throwaway secrets and the tokens signed with them, for the servers the xtask starts itself
//! (`up` on docker and local, `images --check`, the benchmarks, the `api-schema` suite): made
//! fresh, never stored in the repository.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rand::{Rng, distr::Alphanumeric};

/// `length` random letters and digits (about 5.95 bits each).
pub fn random_text(length: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// A new secret of 48 letters and digits (about 285 bits), past the backend's 32-byte minimum.
pub fn random_secret() -> String {
    random_text(48)
}

/// An HS256 token for `user_id` signed with `secret`, valid for `lifetime`, as the backend's
/// shared-secret mode expects (`sub`, `iat`, `exp`).
pub fn mint_token(secret: &str, user_id: &str, lifetime: Duration) -> anyhow::Result<String> {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        sub: &'a str,
        iat: u64,
        exp: u64,
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("reading the clock")?
        .as_secs();
    let claims = Claims {
        sub: user_id,
        iat: now,
        exp: now + lifetime.as_secs(),
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("signing a token")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_long_enough_and_differ() {
        let (a, b) = (random_secret(), random_secret());
        assert!(a.len() >= todo_config::backend::MIN_SECRET_BYTES);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    /// The token verifies with the secret, names the user and expires when asked.
    #[test]
    fn a_token_carries_the_user_and_its_expiry() {
        let secret = random_secret();
        let token = mint_token(&secret, "ada", Duration::from_secs(600)).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .unwrap()
        .claims;
        assert_eq!(claims["sub"], "ada");
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert_eq!(lifetime, 600);
        let wrong = jsonwebtoken::DecodingKey::from_secret(b"another secret of enough bytes!!");
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &wrong, &validation).is_err());
    }
}
