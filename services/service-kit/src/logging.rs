//! Logs to standard output: one JSON object a line by default (what log collectors read),
//! compact human-readable lines with `LOG_FORMAT=pretty`, filtered by `LOG_LEVEL`.

use todo_config::{LogFormat, LogSettings};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error(
        "LOG_LEVEL `{level}` is not a valid filter (e.g. `info` or `info,todo_backend=debug`): {reason}"
    )]
    BadLevel {
        level: String,
        /// Not a `source`: its own chain would repeat the same sentence.
        reason: tracing_subscriber::filter::ParseError,
    },
}

/// Installs the process's subscriber. A bad `LOG_LEVEL` is an error, like every other invalid
/// setting; a second call (several apps in one test process) keeps the first subscriber.
pub fn init(settings: &LogSettings) -> Result<(), LoggingError> {
    let filter = EnvFilter::try_new(&settings.level).map_err(|reason| LoggingError::BadLevel {
        level: settings.level.clone(),
        reason,
    })?;
    let registry = tracing_subscriber::registry().with(filter);
    // Err only when a subscriber is already installed, which is then the one used.
    let _ = match settings.format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(level: &str) -> LogSettings {
        LogSettings {
            level: level.to_owned(),
            format: LogFormat::Json,
        }
    }

    #[test]
    fn a_bad_level_is_an_error_that_names_the_setting() {
        let error = init(&settings("todo=loud")).err().map(|e| e.to_string());
        let message = error.unwrap_or_default();
        assert!(message.contains("LOG_LEVEL `todo=loud`"), "{message}");
    }

    #[test]
    fn a_second_init_keeps_the_first_subscriber() {
        assert!(init(&settings("info")).is_ok());
        assert!(init(&settings("debug")).is_ok());
    }
}
