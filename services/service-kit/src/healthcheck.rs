//! `backend healthcheck` and `frontend healthcheck`: the Docker HEALTHCHECK of an image with
//! no shell and no curl.

use std::time::Duration;

/// The whole check, connection included, ends within this.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the check failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthcheckError {
    #[error("{url} answered {status}")]
    NotHealthy { url: String, status: u16 },
    #[error("{url} could not be asked: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

/// GETs `url` and succeeds only on a 200.
pub async fn check(url: &str) -> Result<(), HealthcheckError> {
    crate::tls::install_provider();
    let unreachable = |source| HealthcheckError::Unreachable {
        url: url.to_owned(),
        source,
    };
    let client = reqwest::Client::builder()
        .timeout(HEALTHCHECK_TIMEOUT)
        .no_proxy()
        .build()
        .map_err(unreachable)?;
    let answer = client.get(url).send().await.map_err(unreachable)?;
    match answer.status().as_u16() {
        200 => Ok(()),
        status => Err(HealthcheckError::NotHealthy {
            url: url.to_owned(),
            status,
        }),
    }
}
