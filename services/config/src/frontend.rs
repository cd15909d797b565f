//! The frontend's settings.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PORT` / `BIND` | 3000 / 0.0.0.0 | where the UI listens |
//! | `BACKEND_URL` | http://localhost:8000 | the backend that `/api/*` and `/mcp` are proxied to |
//! | `PROXY_TIMEOUT_SECONDS` | 30 | deadline for one proxied call (chat turns with an LLM can be slow) |
//! | `BODY_LIMIT_BYTES` | 1048576 | largest request body proxied (the backend's default limit too) |
//! | `SHUTDOWN_DELAY_SECONDS` | 0 | after SIGTERM, time `/readyz` answers 503 while requests are still served |
//! | `SHUTDOWN_GRACE_SECONDS` | 20 | then, time in-flight requests get to finish |
//! | `PROMETHEUS_URL` | unset | the Prometheus the operator dashboard (`/ops/dashboard`) queries; unset: no dashboard |
//! | `LOG_FORMAT` / `LOG_LEVEL` | json / info | logging |

use std::{net::IpAddr, time::Duration};

use crate::{
    ConfigError, EnvSource, LogSettings, ProcessEnv, env, logging::LogFile, read_file_layer,
};

/// Every environment variable the frontend reads (the Helm chart's env is checked against this).
pub const ENV_VARS: &[&str] = &[
    "CONFIG_FILE",
    "BIND",
    "PORT",
    "BACKEND_URL",
    "PROXY_TIMEOUT_SECONDS",
    "BODY_LIMIT_BYTES",
    "SHUTDOWN_DELAY_SECONDS",
    "SHUTDOWN_GRACE_SECONDS",
    "PROMETHEUS_URL",
    "LOG_FORMAT",
    "LOG_LEVEL",
];

/// The default of `BODY_LIMIT_BYTES`: 1 MiB, as the backend's.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Everything the frontend needs to run, validated.
#[derive(Debug, Clone)]
pub struct FrontendConfig {
    pub bind: IpAddr,
    pub port: u16,
    /// Base URL of the backend, without a trailing slash.
    pub backend_url: String,
    pub proxy_timeout: Duration,
    /// Request bodies larger than this are answered 413 here, never sent to the backend.
    pub body_limit_bytes: usize,
    /// After the shutdown signal: reported not ready, still serving everything, for this long.
    pub shutdown_delay: Duration,
    /// Then: no new connections; in-flight requests get this long to finish.
    pub shutdown_grace: Duration,
    /// Base URL of the Prometheus the operator dashboard graphs from, without a trailing slash;
    /// `None`: no dashboard.
    pub prometheus_url: Option<String>,
    pub log: LogSettings,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontendFile {
    bind: Option<IpAddr>,
    port: Option<u16>,
    backend_url: Option<String>,
    proxy_timeout_seconds: Option<u64>,
    body_limit_bytes: Option<usize>,
    shutdown_delay_seconds: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
    prometheus_url: Option<String>,
    #[serde(default)]
    log: LogFile,
}

impl FrontendConfig {
    /// Loads from `CONFIG_FILE` (if set) and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&ProcessEnv)
    }

    /// Loads from `CONFIG_FILE` (if set in `env`) and `env` on top.
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        let file: FrontendFile = read_file_layer(env)?;
        let backend_url = env::plain(env, "BACKEND_URL")
            .or(file.backend_url)
            .unwrap_or_else(|| "http://localhost:8000".to_owned());
        if !(backend_url.starts_with("http://") || backend_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "BACKEND_URL",
                format!("`{backend_url}` is not an http(s) URL, e.g. http://todo-backend:8000"),
            ));
        }
        let seconds = |name: &'static str, from_file: Option<u64>, default: u64| {
            env::parsed::<u64>(env, name, "a whole number of seconds")
                .map(|v| Duration::from_secs(v.or(from_file).unwrap_or(default)))
        };
        let prometheus_url = env::plain(env, "PROMETHEUS_URL")
            .or(file.prometheus_url)
            .filter(|url| !url.is_empty());
        if let Some(url) = &prometheus_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::invalid(
                "PROMETHEUS_URL",
                format!("`{url}` is not an http(s) URL, e.g. http://prometheus:9090"),
            ));
        }
        let body_limit_bytes = env::parsed(env, "BODY_LIMIT_BYTES", "a number of bytes")?
            .or(file.body_limit_bytes)
            .unwrap_or(DEFAULT_BODY_LIMIT_BYTES);
        if body_limit_bytes == 0 {
            return Err(ConfigError::invalid(
                "BODY_LIMIT_BYTES",
                "must be at least 1",
            ));
        }
        Ok(Self {
            bind: env::parsed(env, "BIND", "an IP address such as 0.0.0.0")?
                .or(file.bind)
                .unwrap_or(IpAddr::from([0, 0, 0, 0])),
            port: env::parsed(env, "PORT", "a port number from 0 to 65535")?
                .or(file.port)
                .unwrap_or(3000),
            backend_url: backend_url.trim_end_matches('/').to_owned(),
            proxy_timeout: seconds("PROXY_TIMEOUT_SECONDS", file.proxy_timeout_seconds, 30)?,
            body_limit_bytes,
            shutdown_delay: seconds("SHUTDOWN_DELAY_SECONDS", file.shutdown_delay_seconds, 0)?,
            shutdown_grace: seconds("SHUTDOWN_GRACE_SECONDS", file.shutdown_grace_seconds, 20)?,
            prometheus_url: prometheus_url.map(|url| url.trim_end_matches('/').to_owned()),
            log: LogSettings::load(env, file.log)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::MapEnv;

    #[test]
    fn defaults_point_at_a_local_backend() {
        let config = FrontendConfig::from_env(&MapEnv::default()).unwrap();
        assert_eq!(config.port, 3000);
        assert_eq!(config.backend_url, "http://localhost:8000");
        assert_eq!(
            config.body_limit_bytes,
            1024 * 1024,
            "the backend's default"
        );
        assert_eq!(
            config.shutdown_delay,
            Duration::ZERO,
            "local runs stop at once"
        );
    }

    #[test]
    fn body_limit_and_shutdown_delay_come_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frontend.toml");
        std::fs::write(
            &path,
            "body_limit_bytes = 2048\nshutdown_delay_seconds = 5\n",
        )
        .unwrap();
        let file = MapEnv::new([("CONFIG_FILE", path.to_str().unwrap())]);
        let config = FrontendConfig::from_env(&file).unwrap();
        assert_eq!(config.body_limit_bytes, 2048);
        assert_eq!(config.shutdown_delay, Duration::from_secs(5));
        let mut env = file.clone();
        env.0
            .insert("SHUTDOWN_DELAY_SECONDS".to_owned(), "7".to_owned());
        assert_eq!(
            FrontendConfig::from_env(&env).unwrap().shutdown_delay,
            Duration::from_secs(7),
            "the environment wins"
        );
        let err = FrontendConfig::from_env(&MapEnv::new([("BODY_LIMIT_BYTES", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("BODY_LIMIT_BYTES:"), "{err}");
    }

    #[test]
    fn env_vars_lists_exactly_the_variables_the_frontend_reads() {
        let env = crate::env::RecordingEnv::default();
        FrontendConfig::from_env(&env).unwrap();
        let asked: Vec<String> = env.asked.into_inner().into_iter().collect();
        let mut listed: Vec<String> = ENV_VARS.iter().map(|s| (*s).to_owned()).collect();
        listed.sort();
        assert_eq!(
            asked, listed,
            "ENV_VARS must match the names FrontendConfig::from_env reads"
        );
    }

    #[test]
    fn backend_url_must_be_http_and_loses_its_trailing_slash() {
        let ok =
            FrontendConfig::from_env(&MapEnv::new([("BACKEND_URL", "http://api:8000/")])).unwrap();
        assert_eq!(ok.backend_url, "http://api:8000");
        let err = FrontendConfig::from_env(&MapEnv::new([("BACKEND_URL", "api:8000")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("BACKEND_URL:"), "{err}");
    }

    #[test]
    fn prometheus_url_is_optional_and_must_be_http() {
        let none = FrontendConfig::from_env(&MapEnv::default()).unwrap();
        assert_eq!(none.prometheus_url, None, "no dashboard unless asked for");
        let some = FrontendConfig::from_env(&MapEnv::new([(
            "PROMETHEUS_URL",
            "http://prometheus:9090/",
        )]))
        .unwrap();
        assert_eq!(
            some.prometheus_url.as_deref(),
            Some("http://prometheus:9090")
        );
        let err = FrontendConfig::from_env(&MapEnv::new([("PROMETHEUS_URL", "prometheus:9090")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("PROMETHEUS_URL:"), "{err}");
    }
}
