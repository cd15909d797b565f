//! Waiting for a condition that is not a URL answering 2xx (for that, `http::wait_until_ok`):
//! an alert firing, rule groups loaded, volumes released. Bounded, and at the end the last
//! reason it was not yet true is the error.

use std::time::{Duration, Instant};

/// Calls `check` every second until it gives a value, for at most `within`; errors from
/// `check` count as "not yet" until the deadline, where the last one is reported.
pub async fn until<T, F, Fut>(within: Duration, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + within;
    loop {
        let last = match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => None,
            Err(err) => Some(err),
        };
        if Instant::now() >= deadline {
            let message = format!("waited {:.0}s for {what}", within.as_secs_f64());
            return Err(match last {
                Some(err) => err.context(message),
                None => anyhow::anyhow!(message),
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_first_value_ends_the_wait_and_errors_count_as_not_yet() {
        let mut calls = 0;
        let value = until(Duration::from_secs(10), "the third call", || {
            calls += 1;
            let call = calls;
            async move {
                match call {
                    1 => anyhow::bail!("not reachable yet"),
                    2 => Ok(None),
                    _ => Ok(Some(call)),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(value, 3);
    }

    #[tokio::test]
    async fn at_the_deadline_the_last_reason_is_the_error() {
        let err = until(Duration::ZERO, "the impossible", || async {
            Err::<Option<()>, _>(anyhow::anyhow!("targets: backend down"))
        })
        .await
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("waited 0s for the impossible"),
            "{message}"
        );
        assert!(message.contains("targets: backend down"), "{message}");
    }
}
