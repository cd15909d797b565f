//! The Prometheus recorder behind `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets of `http_request_duration_seconds`, fixed by the interface sheet.
pub const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide metrics: the recorder is global, so every `Application` in a process
/// (several in tests) shares it.
pub struct Metrics {
    handle: Option<PrometheusHandle>,
    process: metrics_process::Collector,
}

impl Metrics {
    /// The recorder, installed on first use, with the build info and process metrics described.
    pub fn global() -> &'static Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".to_owned()), &DURATION_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .inspect_err(|e| tracing::error!(error = %e, "metrics recorder not installed; /metrics will be empty"))
                .ok();
            let process = metrics_process::Collector::default();
            process.describe();
            metrics::gauge!("app_build_info", "service" => "frontend", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            metrics::describe_gauge!("backend_up", "1 while the backend answers, 0 when it cannot be reached");
            metrics::describe_counter!(
                "proxy_upstream_errors_total",
                "proxied calls that got no answer from the backend, by kind (connect, timeout, other)"
            );
            Metrics { handle, process }
        })
    }

    /// The Prometheus text exposition of every metric, process metrics refreshed.
    pub fn render(&self) -> String {
        self.process.collect();
        match &self.handle {
            Some(handle) => {
                handle.run_upkeep();
                handle.render()
            }
            None => String::new(),
        }
    }
}
