//! The backend's settings.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PORT` / `BIND` | 8000 / 0.0.0.0 | where the API listens |
//! | `DATABASE_URL` (`_FILE`) | SQLite at `./data/todo.db` | the database |
//! | `DB_MAX_CONNECTIONS` | 10 | pool size |
//! | `MIGRATE_ON_START` | true | apply pending migrations before serving |
//! | `BETTER_AUTH_SECRET` (`_FILE`) | none (required, ≥ 32 bytes) | HS256 signing key |
//! | `AUTH_JWKS_URL` | unset | also accept tokens signed by the keys at this JWKS URL |
//! | `TOKEN_TTL_SECONDS` | 604800 (7 days) | lifetime of tokens the built-in accounts issue |
//! | `DEV_MODE` | false | allow a missing secret (a fixed, public dev key is used) |
//! | `REQUEST_TIMEOUT_SECONDS` | 30 | per-request deadline |
//! | `BODY_LIMIT_BYTES` | 1048576 | largest accepted request body |
//! | `LISTING_CACHE_BYTES` | 4194304 | memory for rendered task listings, each served until the user's tasks change; 0 keeps none |
//! | `SHUTDOWN_DELAY_SECONDS` | 0 | after SIGTERM, time `/readyz` answers 503 while requests are still served |
//! | `SHUTDOWN_GRACE_SECONDS` | 20 | then, time in-flight requests get to finish |
//! | `CHAT_ENGINE` | auto | builtin, openai, or auto (openai when a key or base URL is set) |
//! | `OPENAI_API_KEY` (`_FILE`), `OPENAI_BASE_URL`, `OPENAI_MODEL` | unset, api.openai.com, gpt-4o-mini | the LLM agent |
//! | `OPENAI_TIMEOUT_SECONDS` | 30 | deadline for one LLM call |
//! | `CHAT_HISTORY_WINDOW` | 20 | messages of history sent to the LLM |
//! | `CHAT_MAX_TOOL_STEPS` | 5 | tool-call rounds per turn |
//! | `LOG_FORMAT` / `LOG_LEVEL` | json / info | logging |

use std::{net::IpAddr, time::Duration};

use crate::{
    ConfigError, DatabaseUrl, EnvSource, LogSettings, ProcessEnv, Secret, env, logging::LogFile,
    read_file_layer,
};

/// Every environment variable the backend reads (the Helm chart's env is checked against this).
pub const ENV_VARS: &[&str] = &[
    "CONFIG_FILE",
    "BIND",
    "PORT",
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "DB_MAX_CONNECTIONS",
    "MIGRATE_ON_START",
    "BETTER_AUTH_SECRET",
    "BETTER_AUTH_SECRET_FILE",
    "AUTH_JWKS_URL",
    "TOKEN_TTL_SECONDS",
    "DEV_MODE",
    "REQUEST_TIMEOUT_SECONDS",
    "BODY_LIMIT_BYTES",
    "LISTING_CACHE_BYTES",
    "SHUTDOWN_DELAY_SECONDS",
    "SHUTDOWN_GRACE_SECONDS",
    "CHAT_ENGINE",
    "OPENAI_API_KEY",
    "OPENAI_API_KEY_FILE",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_TIMEOUT_SECONDS",
    "CHAT_HISTORY_WINDOW",
    "CHAT_MAX_TOOL_STEPS",
    "LOG_FORMAT",
    "LOG_LEVEL",
];

/// The shortest accepted HS256 key, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The key used in `DEV_MODE` when no secret is given. Public on purpose: never use it in production.
pub const DEV_MODE_SECRET: &str = "dev-mode-only-insecure-key-0123456789abcdef";

/// Which chat engine answers chat turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChatEngineChoice {
    /// The deterministic built-in language engine: no network, no key.
    Builtin,
    /// An OpenAI-compatible Chat Completions endpoint with tool calling.
    OpenAi,
    /// OpenAI when a key or base URL is configured, the built-in engine otherwise.
    #[default]
    Auto,
}

/// How bearer tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// HS256 with `BETTER_AUTH_SECRET` only.
    SharedSecret,
    /// HS256 with the secret, and EdDSA/ES256/RS256 against the keys published at this URL.
    SharedSecretAndJwks { jwks_url: String },
}

/// The backend's chat settings.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    pub engine: ChatEngineChoice,
    pub openai_api_key: Option<Secret>,
    pub openai_base_url: Option<String>,
    pub openai_model: String,
    pub openai_timeout: Duration,
    pub history_window: usize,
    pub max_tool_steps: usize,
}

impl ChatSettings {
    /// The engine `auto` resolves to with these settings.
    pub fn resolved_engine(&self) -> ChatEngineChoice {
        match self.engine {
            ChatEngineChoice::Auto
                if self.openai_api_key.is_some() || self.openai_base_url.is_some() =>
            {
                ChatEngineChoice::OpenAi
            }
            ChatEngineChoice::Auto => ChatEngineChoice::Builtin,
            chosen => chosen,
        }
    }
}

/// Everything the backend needs to run, validated.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub bind: IpAddr,
    pub port: u16,
    pub database: DatabaseUrl,
    pub db_max_connections: u32,
    pub migrate_on_start: bool,
    pub auth_secret: Secret,
    pub auth_mode: AuthMode,
    pub token_ttl: Duration,
    pub dev_mode: bool,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    /// Memory for rendered task listings, each served until the user's tasks change; 0 keeps
    /// none.
    pub listing_cache_bytes: u64,
    /// After the shutdown signal: reported not ready, still serving everything, for this long.
    pub shutdown_delay: Duration,
    /// Then: no new connections; in-flight requests get this long to finish.
    pub shutdown_grace: Duration,
    pub chat: ChatSettings,
    pub log: LogSettings,
}

/// The optional TOML file: the same settings, lower-case names.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BackendFile {
    bind: Option<IpAddr>,
    port: Option<u16>,
    database_url: Option<Secret>,
    db_max_connections: Option<u32>,
    migrate_on_start: Option<bool>,
    better_auth_secret: Option<Secret>,
    auth_jwks_url: Option<String>,
    token_ttl_seconds: Option<u64>,
    dev_mode: Option<bool>,
    request_timeout_seconds: Option<u64>,
    body_limit_bytes: Option<usize>,
    listing_cache_bytes: Option<u64>,
    shutdown_delay_seconds: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
    chat_engine: Option<String>,
    openai_api_key: Option<Secret>,
    openai_base_url: Option<String>,
    openai_model: Option<String>,
    openai_timeout_seconds: Option<u64>,
    chat_history_window: Option<usize>,
    chat_max_tool_steps: Option<usize>,
    #[serde(default)]
    log: LogFile,
}

/// `DATABASE_URL` (or `_FILE`), else the file's, else the embedded SQLite default.
fn database_url(
    env: &dyn EnvSource,
    from_file: Option<Secret>,
) -> Result<DatabaseUrl, ConfigError> {
    match env::secret(env, "DATABASE_URL")?.or(from_file) {
        Some(url) => DatabaseUrl::parse(url.expose()),
        None => Ok(DatabaseUrl::embedded_default()),
    }
}

/// What `backend migrate` needs: the database and the logging, and nothing else, so a
/// migration Job is given the database URL alone (no signing key, no API keys).
#[derive(Debug, Clone)]
pub struct MigrateConfig {
    pub database: DatabaseUrl,
    pub log: LogSettings,
}

impl MigrateConfig {
    /// Loads from `CONFIG_FILE` (if set) and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&ProcessEnv)
    }

    /// Loads from `CONFIG_FILE` (if set in `env`) and `env` on top.
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        let file: BackendFile = read_file_layer(env)?;
        Ok(Self {
            database: database_url(env, file.database_url)?,
            log: LogSettings::load(env, file.log)?,
        })
    }
}

impl BackendConfig {
    /// Loads from `CONFIG_FILE` (if set) and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_env(&ProcessEnv)
    }

    /// Loads from `CONFIG_FILE` (if set in `env`) and `env` on top.
    pub fn from_env(env: &dyn EnvSource) -> Result<Self, ConfigError> {
        let file: BackendFile = read_file_layer(env)?;
        let seconds = |name: &'static str, from_file: Option<u64>, default: u64| {
            env::parsed::<u64>(env, name, "a whole number of seconds")
                .map(|v| Duration::from_secs(v.or(from_file).unwrap_or(default)))
        };

        let database = database_url(env, file.database_url)?;
        let dev_mode = env::flag(env, "DEV_MODE")?
            .or(file.dev_mode)
            .unwrap_or(false);
        let auth_secret = match env::secret(env, "BETTER_AUTH_SECRET")?.or(file.better_auth_secret)
        {
            Some(s) if s.expose().len() >= MIN_SECRET_BYTES => s,
            // Dev mode accepts a short key as given (tokens signed with it must still verify).
            Some(s) if dev_mode && !s.expose().is_empty() => s,
            Some(_) | None if dev_mode => Secret::new(DEV_MODE_SECRET),
            Some(_) => {
                return Err(ConfigError::invalid(
                    "BETTER_AUTH_SECRET",
                    format!(
                        "is shorter than {MIN_SECRET_BYTES} bytes; generate one with `openssl rand -hex 32`"
                    ),
                ));
            }
            None => {
                return Err(ConfigError::invalid(
                    "BETTER_AUTH_SECRET",
                    "is not set; set it (or BETTER_AUTH_SECRET_FILE) to a random string of at least \
                     32 bytes, e.g. `openssl rand -hex 32`, or set DEV_MODE=true for local development",
                ));
            }
        };
        let auth_mode = match env::plain(env, "AUTH_JWKS_URL").or(file.auth_jwks_url) {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                AuthMode::SharedSecretAndJwks { jwks_url: url }
            }
            Some(url) => {
                return Err(ConfigError::invalid(
                    "AUTH_JWKS_URL",
                    format!("`{url}` is not an http(s) URL"),
                ));
            }
            None => AuthMode::SharedSecret,
        };
        let engine = match env::plain(env, "CHAT_ENGINE").or(file.chat_engine) {
            None => ChatEngineChoice::Auto,
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "builtin" | "built-in" => ChatEngineChoice::Builtin,
                "openai" => ChatEngineChoice::OpenAi,
                "auto" => ChatEngineChoice::Auto,
                _ => {
                    return Err(ConfigError::invalid(
                        "CHAT_ENGINE",
                        format!("`{raw}` is not valid; expected builtin, openai or auto"),
                    ));
                }
            },
        };
        let chat = ChatSettings {
            engine,
            openai_api_key: env::secret(env, "OPENAI_API_KEY")?.or(file.openai_api_key),
            openai_base_url: env::plain(env, "OPENAI_BASE_URL").or(file.openai_base_url),
            openai_model: env::plain(env, "OPENAI_MODEL")
                .or(file.openai_model)
                .unwrap_or_else(|| "gpt-4o-mini".to_owned()),
            openai_timeout: seconds("OPENAI_TIMEOUT_SECONDS", file.openai_timeout_seconds, 30)?,
            history_window: env::parsed(env, "CHAT_HISTORY_WINDOW", "a whole number")?
                .or(file.chat_history_window)
                .unwrap_or(20),
            max_tool_steps: env::parsed(env, "CHAT_MAX_TOOL_STEPS", "a whole number")?
                .or(file.chat_max_tool_steps)
                .unwrap_or(5),
        };
        if chat.engine == ChatEngineChoice::OpenAi
            && chat.openai_api_key.is_none()
            && chat.openai_base_url.is_none()
        {
            return Err(ConfigError::invalid(
                "CHAT_ENGINE",
                "is openai but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set",
            ));
        }

        let config = Self {
            bind: env::parsed(env, "BIND", "an IP address such as 0.0.0.0")?
                .or(file.bind)
                .unwrap_or(IpAddr::from([0, 0, 0, 0])),
            port: env::parsed(env, "PORT", "a port number from 0 to 65535")?
                .or(file.port)
                .unwrap_or(8000),
            database,
            db_max_connections: env::parsed(env, "DB_MAX_CONNECTIONS", "a whole number")?
                .or(file.db_max_connections)
                .unwrap_or(10),
            migrate_on_start: env::flag(env, "MIGRATE_ON_START")?
                .or(file.migrate_on_start)
                .unwrap_or(true),
            auth_secret,
            auth_mode,
            token_ttl: seconds("TOKEN_TTL_SECONDS", file.token_ttl_seconds, 7 * 24 * 3600)?,
            dev_mode,
            request_timeout: seconds("REQUEST_TIMEOUT_SECONDS", file.request_timeout_seconds, 30)?,
            body_limit_bytes: env::parsed(env, "BODY_LIMIT_BYTES", "a number of bytes")?
                .or(file.body_limit_bytes)
                .unwrap_or(1024 * 1024),
            listing_cache_bytes: env::parsed(env, "LISTING_CACHE_BYTES", "a number of bytes")?
                .or(file.listing_cache_bytes)
                .unwrap_or(4 * 1024 * 1024),
            shutdown_delay: seconds("SHUTDOWN_DELAY_SECONDS", file.shutdown_delay_seconds, 0)?,
            shutdown_grace: seconds("SHUTDOWN_GRACE_SECONDS", file.shutdown_grace_seconds, 20)?,
            chat,
            log: LogSettings::load(env, file.log)?,
        };
        if config.db_max_connections == 0 {
            return Err(ConfigError::invalid(
                "DB_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        if config.body_limit_bytes == 0 {
            return Err(ConfigError::invalid(
                "BODY_LIMIT_BYTES",
                "must be at least 1",
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::MapEnv;

    const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_use_the_embedded_database_on_port_8000() {
        let config =
            BackendConfig::from_env(&MapEnv::new([("BETTER_AUTH_SECRET", GOOD_SECRET)])).unwrap();
        assert_eq!(config.port, 8000);
        assert_eq!(config.database, DatabaseUrl::embedded_default());
        assert!(config.migrate_on_start);
        assert_eq!(config.chat.resolved_engine(), ChatEngineChoice::Builtin);
    }

    #[test]
    fn migrations_need_the_database_url_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url_file = dir.path().join("database-url");
        std::fs::write(&url_file, "postgres://todo@db.example:5432/todo\n").unwrap();
        let path = url_file.display().to_string();
        let config =
            MigrateConfig::from_env(&MapEnv::new([("DATABASE_URL_FILE", path.as_str())])).unwrap();
        assert!(
            config.database.describe().contains("db.example"),
            "{:?}",
            config.database
        );
        // The full service refuses the same environment: it has no signing key.
        assert!(
            BackendConfig::from_env(&MapEnv::new([("DATABASE_URL_FILE", path.as_str())])).is_err()
        );
        let err =
            MigrateConfig::from_env(&MapEnv::new([("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn a_missing_or_short_secret_is_refused_outside_dev_mode() {
        let err = BackendConfig::from_env(&MapEnv::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("BETTER_AUTH_SECRET: is not set"), "{err}");
        let err = BackendConfig::from_env(&MapEnv::new([("BETTER_AUTH_SECRET", "short")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("shorter than 32 bytes"), "{err}");
        let dev = BackendConfig::from_env(&MapEnv::new([("DEV_MODE", "true")])).unwrap();
        assert_eq!(dev.auth_secret.expose(), DEV_MODE_SECRET);
        let dev_short = BackendConfig::from_env(&MapEnv::new([
            ("DEV_MODE", "true"),
            ("BETTER_AUTH_SECRET", "short"),
        ]))
        .unwrap();
        assert_eq!(
            dev_short.auth_secret.expose(),
            "short",
            "dev mode keeps a short key rather than silently swapping it"
        );
    }

    #[test]
    fn invalid_numbers_name_the_variable() {
        let env = MapEnv::new([("BETTER_AUTH_SECRET", GOOD_SECRET), ("PORT", "eighty")]);
        let err = BackendConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.starts_with("PORT: `eighty` is not valid"), "{err}");
    }

    #[test]
    fn auto_engine_picks_openai_when_a_key_is_set() {
        let env = MapEnv::new([
            ("BETTER_AUTH_SECRET", GOOD_SECRET),
            ("OPENAI_API_KEY", "placeholder"),
        ]);
        let config = BackendConfig::from_env(&env).unwrap();
        assert_eq!(config.chat.resolved_engine(), ChatEngineChoice::OpenAi);
        assert!(!format!("{config:?}").contains("placeholder"));
    }

    #[test]
    fn file_settings_apply_and_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend.toml");
        std::fs::write(
            &path,
            "port = 9000\nbind = \"127.0.0.1\"\n[log]\nformat = \"pretty\"\n",
        )
        .unwrap();
        let env = MapEnv::new([
            ("CONFIG_FILE", path.to_str().unwrap()),
            ("BETTER_AUTH_SECRET", GOOD_SECRET),
            ("PORT", "9100"),
        ]);
        let config = BackendConfig::from_env(&env).unwrap();
        assert_eq!(config.port, 9100);
        assert_eq!(config.bind, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(config.log.format, crate::LogFormat::Pretty);
    }

    #[test]
    fn env_vars_lists_exactly_the_variables_the_backend_reads() {
        let env = crate::env::RecordingEnv {
            values: MapEnv::new([("BETTER_AUTH_SECRET", GOOD_SECRET)]),
            ..Default::default()
        };
        BackendConfig::from_env(&env).unwrap();
        let asked: Vec<String> = env.asked.into_inner().into_iter().collect();
        let mut listed: Vec<String> = ENV_VARS.iter().map(|s| (*s).to_owned()).collect();
        listed.sort();
        assert_eq!(
            asked, listed,
            "ENV_VARS must match the names BackendConfig::from_env reads"
        );
    }

    #[test]
    fn the_shutdown_delay_is_off_by_default_and_read_from_the_file_or_the_environment() {
        let config =
            BackendConfig::from_env(&MapEnv::new([("BETTER_AUTH_SECRET", GOOD_SECRET)])).unwrap();
        assert_eq!(
            config.shutdown_delay,
            Duration::ZERO,
            "local runs stop at once"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend.toml");
        std::fs::write(&path, "shutdown_delay_seconds = 5\n").unwrap();
        let from_file = MapEnv::new([
            ("CONFIG_FILE", path.to_str().unwrap()),
            ("BETTER_AUTH_SECRET", GOOD_SECRET),
        ]);
        assert_eq!(
            BackendConfig::from_env(&from_file).unwrap().shutdown_delay,
            Duration::from_secs(5)
        );
        let mut from_env = from_file.clone();
        from_env
            .0
            .insert("SHUTDOWN_DELAY_SECONDS".to_owned(), "7".to_owned());
        assert_eq!(
            BackendConfig::from_env(&from_env).unwrap().shutdown_delay,
            Duration::from_secs(7),
            "the environment wins"
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend.toml");
        std::fs::write(&path, "prot = 9000\n").unwrap();
        let env = MapEnv::new([
            ("CONFIG_FILE", path.to_str().unwrap()),
            ("BETTER_AUTH_SECRET", GOOD_SECRET),
        ]);
        let err = BackendConfig::from_env(&env).unwrap_err().to_string();
        assert!(err.contains("unknown field `prot`"), "{err}");
    }
}
