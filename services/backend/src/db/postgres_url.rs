//! PostgreSQL URLs as hosted providers hand them out, made into sqlx's connect options.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

/// Parses a PostgreSQL URL. `sslmode` (`require`, `verify-full`, …) is honoured by sqlx with
/// rustls, SNI included. `channel_binding` is a libpq parameter that sqlx does not know: its
/// SCRAM exchange always uses the "client does not support channel binding" header (`n,,`),
/// which servers that merely offer SCRAM-SHA-256-PLUS accept. The parameter is removed before
/// parsing and the fact is logged, so a Neon URL that carries `channel_binding=require`
/// connects over TLS with SCRAM-SHA-256 (no channel binding).
pub fn postgres_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let (url, removed) = strip_query_parameter(url, "channel_binding");
    if let Some(value) = removed {
        tracing::warn!(
            channel_binding = %value,
            "the PostgreSQL driver (sqlx) does not implement channel binding; connecting with \
             SCRAM-SHA-256 over TLS without it (sslmode still applies)"
        );
    }
    PgConnectOptions::from_str(&url)
}

/// Removes `name=…` from a URL's query string; returns the new URL and the removed value.
fn strip_query_parameter(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut removed = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == name {
                removed = Some(value.to_owned());
                false
            } else {
                !pair.is_empty()
            }
        })
        .collect();
    if kept.is_empty() {
        (base.to_owned(), removed)
    } else {
        (format!("{base}?{}", kept.join("&")), removed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn channel_binding_is_removed_and_other_parameters_are_kept() {
        let (url, removed) = strip_query_parameter(
            "postgres://u:p@ep-x.neon.tech/db?sslmode=require&channel_binding=require",
            "channel_binding",
        );
        assert_eq!(url, "postgres://u:p@ep-x.neon.tech/db?sslmode=require");
        assert_eq!(removed.as_deref(), Some("require"));
        let (url, removed) = strip_query_parameter("postgres://h/db", "channel_binding");
        assert_eq!((url.as_str(), removed), ("postgres://h/db", None));
    }

    #[test]
    fn a_neon_style_url_parses_with_tls_required() {
        let options = postgres_options(
            "postgresql://u:p@ep-x.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
        )
        .unwrap();
        assert_eq!(options.get_host(), "ep-x.eu-central-1.aws.neon.tech");
        assert!(matches!(
            options.get_ssl_mode(),
            sqlx::postgres::PgSslMode::Require
        ));
    }
}
