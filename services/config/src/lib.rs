//! Typed configuration for the Todo Chatbot services, shared by the backend, the frontend and
//! the xtask.
//!
//! Every service reads the same way: an optional TOML file (named by `CONFIG_FILE`), then the
//! environment on top. Secret settings can also come from a file named by `<NAME>_FILE`, the
//! way Docker and Kubernetes mount secrets. Validation happens once, at load time, and every
//! error says which setting is wrong and how to fix it.
//!
//! [`dashboard`] holds the one list of the monitoring dashboard's queries.

pub mod backend;
pub mod dashboard;
pub mod database;
pub mod env;
pub mod frontend;
pub mod logging;
pub mod secret;

pub use backend::{AuthMode, BackendConfig, ChatEngineChoice, MigrateConfig};
pub use database::DatabaseUrl;
pub use env::{EnvSource, MapEnv, ProcessEnv};
pub use frontend::FrontendConfig;
pub use logging::{LogFormat, LogSettings};
pub use secret::Secret;

/// A configuration that cannot be used, with the name of the setting and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {problem}")]
    Invalid { name: &'static str, problem: String },
    #[error("{name} and {name}_FILE are both set; keep one of them")]
    BothValueAndFile { name: &'static str },
    #[error("{name}_FILE names {path}, which cannot be read: {source}")]
    UnreadableSecretFile {
        name: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} cannot be read: {source}")]
    UnreadableFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    MalformedFile {
        path: String,
        #[source]
        source: Box<toml::de::Error>,
    },
}

impl ConfigError {
    pub(crate) fn invalid(name: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            name,
            problem: problem.into(),
        }
    }
}

/// Reads the TOML file named by `CONFIG_FILE`, if any, into a layer of optional settings.
pub(crate) fn read_file_layer<T: serde::de::DeserializeOwned + Default>(
    env: &dyn EnvSource,
) -> Result<T, ConfigError> {
    let Some(path) = env.var("CONFIG_FILE").filter(|p| !p.trim().is_empty()) else {
        return Ok(T::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::UnreadableFile {
        path: path.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::MalformedFile {
        path,
        source: Box::new(source),
    })
}
