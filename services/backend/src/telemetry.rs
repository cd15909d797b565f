//! Logging: JSON lines by default, human-readable lines with `LOG_FORMAT=pretty`.

use todo_config::{LogFormat, LogSettings};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. Later calls (several apps in one test process) are no-ops.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|e| {
        eprintln!(
            "LOG_LEVEL `{}` is not a valid filter ({e}); using `info`",
            settings.level
        );
        EnvFilter::new("info")
    });
    let registry = tracing_subscriber::registry().with(filter);
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
}
