//! The Prometheus recorder behind both services' `/metrics`: installed once per process (the
//! `metrics` facade has one global recorder, so every application a test process builds shares
//! it), with the latency buckets of the interface sheet, the process collector and
//! `app_build_info{service, version}`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets of every histogram not given its own, in seconds (the interface sheet's list, so
/// `http_request_duration_seconds` has them in both services).
pub const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The recorder could not be installed (another recorder holds the process's slot).
#[derive(Debug, Clone, thiserror::Error)]
#[error("installing the Prometheus recorder: {0}")]
pub struct InstallError(String);

/// The installed recorder and the process collector refreshed at each scrape.
pub struct Recorder {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static RECORDER: OnceLock<Result<Recorder, InstallError>> = OnceLock::new();

impl Recorder {
    /// Installs the recorder on first call and returns it; later calls return the same one
    /// (their arguments are not looked at). `histograms` names the histograms whose buckets
    /// differ from [`LATENCY_BUCKETS`].
    pub fn install(
        service: &'static str,
        version: &'static str,
        histograms: &[(&str, &[f64])],
    ) -> Result<&'static Recorder, InstallError> {
        RECORDER
            .get_or_init(|| {
                let mut builder = PrometheusBuilder::new()
                    .set_buckets(&LATENCY_BUCKETS)
                    .map_err(|e| InstallError(e.to_string()))?;
                for (name, buckets) in histograms {
                    builder = builder
                        .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
                        .map_err(|e| InstallError(format!("{name}: {e}")))?;
                }
                let handle = builder
                    .install_recorder()
                    .map_err(|e| InstallError(e.to_string()))?;
                let process = metrics_process::Collector::default();
                process.describe();
                metrics::gauge!("app_build_info", "service" => service, "version" => version)
                    .set(1.0);
                Ok(Recorder { handle, process })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The Prometheus text exposition of every metric, process figures refreshed.
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Drains the histograms' pending samples into their buckets (also done at each render;
    /// a service scraped seldom calls it on a timer to bound its memory).
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// One recorder per process: a second install returns the first, and the exposition has
    /// the build info, the process collector's series and the configured buckets.
    #[test]
    fn the_recorder_is_installed_once_and_renders_every_series() {
        let first =
            Recorder::install("kit-test", "0.0.1", &[("slow_seconds", &[1.0, 60.0])]).unwrap();
        let again = Recorder::install("other", "9", &[]).unwrap();
        assert!(std::ptr::eq(first, again));
        metrics::histogram!("slow_seconds").record(30.0);
        metrics::histogram!("fast_seconds").record(0.002);
        let text = first.render();
        assert!(
            text.contains(r#"app_build_info{service="kit-test",version="0.0.1"} 1"#),
            "{text}"
        );
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
        assert!(text.contains(r#"slow_seconds_bucket{le="60"} 1"#), "{text}");
        assert!(
            text.contains(r#"fast_seconds_bucket{le="0.0025"} 1"#),
            "{text}"
        );
        assert!(!text.contains(r#"fast_seconds_bucket{le="60"}"#), "{text}");
    }
}
