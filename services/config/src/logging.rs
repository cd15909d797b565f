//! Log format and level, shared by both services.

use crate::{ConfigError, EnvSource, env};

/// How log lines are written to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line: what log collectors in a cluster expect.
    #[default]
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// Log settings: `LOG_FORMAT` (json | pretty) and `LOG_LEVEL` (a tracing filter such as `info`
/// or `info,sqlx=warn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: "info".to_owned(),
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogFile {
    pub format: Option<LogFormat>,
    pub level: Option<String>,
}

impl LogSettings {
    pub(crate) fn load(env: &dyn EnvSource, file: LogFile) -> Result<Self, ConfigError> {
        let format = match env::plain(env, "LOG_FORMAT") {
            None => file.format.unwrap_or_default(),
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "json" => LogFormat::Json,
                "pretty" | "text" => LogFormat::Pretty,
                _ => {
                    return Err(ConfigError::invalid(
                        "LOG_FORMAT",
                        format!("`{raw}` is not valid; expected json or pretty"),
                    ));
                }
            },
        };
        let level = env::plain(env, "LOG_LEVEL")
            .or(file.level)
            .unwrap_or_else(|| "info".to_owned());
        Ok(Self { format, level })
    }
}
