//! One image build through the Docker Engine API: the context goes up as a tar, the engine's
//! output stream is shown in a progress line, and a failure names the step that failed.

use std::{collections::HashMap, time::Duration};

use anyhow::{Context, bail};
use bollard::{
    Docker, body_full, errors::Error as EngineError, models::BuildInfo,
    query_parameters::BuildImageOptionsBuilder,
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

/// Everything one build needs.
#[derive(Debug)]
pub struct BuildSpec {
    /// `[registry/]name:tag`.
    pub reference: String,
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
    /// The context, an uncompressed tar.
    pub context: Vec<u8>,
    pub labels: HashMap<String, String>,
    pub build_args: HashMap<String, String>,
    /// The stage to build (multi-stage Dockerfiles), if any.
    pub target: Option<String>,
    /// Pull newer base images (only the hermetic path has any).
    pub pull: bool,
}

/// Builds `spec` and returns the image id; the engine's output scrolls by in `progress`.
pub async fn build(
    docker: &Docker,
    spec: BuildSpec,
    progress: &ProgressBar,
) -> anyhow::Result<String> {
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile(&spec.dockerfile)
        .t(&spec.reference)
        .rm(true)
        .forcerm(true)
        .labels(&spec.labels)
        .buildargs(&spec.build_args);
    if let Some(target) = &spec.target {
        options = options.target(target);
    }
    if spec.pull {
        options = options.pull("true");
    }
    let body = body_full(hyper::body::Bytes::from(spec.context));
    let mut stream = docker.build_image(options.build(), None, Some(body));
    let mut log = BuildLog::default();
    while let Some(item) = stream.next().await {
        if let Some(line) = log
            .feed(item)
            .with_context(|| format!("building {}", spec.reference))?
        {
            // Without a terminal (CI) the spinner is hidden: print the steps instead.
            if progress.is_hidden() && line.starts_with("Step ") {
                println!("  {}: {line}", spec.reference);
            }
            progress.set_message(line);
        }
    }
    log.finish()
        .with_context(|| format!("building {}", spec.reference))
}

/// A spinner line for one image's build (hidden when stderr is not a terminal).
pub fn progress_line(prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_prefix(prefix.to_owned());
    let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// How many of the engine's last output lines a failure report quotes.
const TAIL_LINES: usize = 12;

/// Follows a build's output stream: remembers the current step and the last lines, picks out
/// the image id, and turns an engine error into a report naming the failing step.
#[derive(Debug, Default)]
pub struct BuildLog {
    step: Option<String>,
    tail: Vec<String>,
    image_id: Option<String>,
}

impl BuildLog {
    /// Takes one item of the stream; returns the line worth showing, if any.
    pub fn feed(&mut self, item: Result<BuildInfo, EngineError>) -> anyhow::Result<Option<String>> {
        let info = match item {
            Ok(info) => info,
            Err(EngineError::DockerStreamError { error }) => return Err(self.failure(&error)),
            Err(other) => {
                return Err(anyhow::Error::new(other).context(self.where_it_stopped()));
            }
        };
        if let Some(message) = info
            .error_detail
            .as_ref()
            .and_then(|d| d.message.as_deref())
        {
            return Err(self.failure(message));
        }
        if let Some(id) = info.aux.as_ref().and_then(|aux| aux.id.clone()) {
            self.image_id = Some(id);
        }
        let text = info.stream.or(info.status).unwrap_or_default();
        let mut shown = None;
        for line in text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
        {
            if line.starts_with("Step ") {
                self.step = Some(line.to_owned());
            }
            if let Some(id) = line.strip_prefix("Successfully built ") {
                self.image_id.get_or_insert_with(|| id.trim().to_owned());
            }
            self.tail.push(line.to_owned());
            if self.tail.len() > TAIL_LINES {
                self.tail.remove(0);
            }
            shown = Some(line.to_owned());
        }
        Ok(shown)
    }

    /// The image id, once the stream has ended.
    pub fn finish(self) -> anyhow::Result<String> {
        match self.image_id {
            Some(id) => Ok(id),
            None => bail!(
                "the engine's build output ended without an image id; {}",
                self.where_it_stopped()
            ),
        }
    }

    fn where_it_stopped(&self) -> String {
        match &self.step {
            Some(step) => format!("the build stopped at `{step}`"),
            None => "the build stopped before its first step".to_owned(),
        }
    }

    fn failure(&self, error: &str) -> anyhow::Error {
        let step = match &self.step {
            Some(step) => format!("step `{step}` failed"),
            None => "the build failed before its first step".to_owned(),
        };
        let mut report = format!("{step}: {}", error.trim());
        if !self.tail.is_empty() {
            report.push_str("\n  last output:");
            for line in &self.tail {
                report.push_str("\n    ");
                report.push_str(line);
            }
        }
        anyhow::anyhow!(report)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A stream recorded from Docker Engine 20.10's classic builder, one JSON object per line.
    const FAILED_BUILD: &str = r#"{"stream":"Step 1/4 : FROM scratch"}
{"stream":"\n"}
{"stream":" ---\u003e \n"}
{"stream":"Step 2/4 : COPY rootfs/ /"}
{"stream":"\n"}
{"stream":" ---\u003e 5d1a4f0c2b1e\n"}
{"stream":"Step 3/4 : COPY missing /missing"}
{"stream":"\n"}
{"errorDetail":{"message":"COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist"},"error":"COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist"}
"#;

    const GOOD_BUILD: &str = r#"{"stream":"Step 1/2 : FROM scratch"}
{"stream":"\n"}
{"stream":"Step 2/2 : COPY rootfs/ /"}
{"stream":" ---\u003e 9f2e1d3c4b5a\n"}
{"aux":{"ID":"sha256:9f2e1d3c4b5a0000000000000000000000000000000000000000000000000000"}}
{"stream":"Successfully built 9f2e1d3c4b5a\n"}
{"stream":"Successfully tagged todo-chatbot-backend:0123456789ab\n"}
"#;

    fn replay(recorded: &str) -> anyhow::Result<String> {
        let mut log = BuildLog::default();
        for line in recorded.lines() {
            let info: BuildInfo = serde_json::from_str(line).unwrap();
            log.feed(Ok(info))?;
        }
        log.finish()
    }

    #[test]
    fn a_failed_build_reports_the_failing_step_and_the_engines_message() {
        let err = replay(FAILED_BUILD).unwrap_err().to_string();
        assert!(
            err.contains("step `Step 3/4 : COPY missing /missing` failed"),
            "{err}"
        );
        assert!(err.contains("file not found in build context"), "{err}");
        assert!(
            err.contains("last output:"),
            "the report quotes the output before the failure: {err}"
        );
    }

    #[test]
    fn the_error_bollard_makes_of_an_error_detail_is_reported_the_same_way() {
        let mut log = BuildLog::default();
        for line in FAILED_BUILD.lines().take(7) {
            log.feed(Ok(serde_json::from_str(line).unwrap())).unwrap();
        }
        let stream_error = EngineError::DockerStreamError {
            error: "COPY failed: no such file".into(),
        };
        let err = log.feed(Err(stream_error)).unwrap_err().to_string();
        assert!(
            err.contains(
                "step `Step 3/4 : COPY missing /missing` failed: COPY failed: no such file"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_good_build_yields_the_image_id_from_the_aux_record() {
        let id = replay(GOOD_BUILD).unwrap();
        assert_eq!(
            id,
            "sha256:9f2e1d3c4b5a0000000000000000000000000000000000000000000000000000"
        );
    }

    #[test]
    fn a_stream_that_ends_without_an_image_id_is_an_error_naming_the_last_step() {
        let truncated: String = GOOD_BUILD
            .lines()
            .take(3)
            .map(|l| format!("{l}\n"))
            .collect();
        let err = replay(&truncated).unwrap_err().to_string();
        assert!(err.contains("without an image id"), "{err}");
        assert!(err.contains("Step 2/2 : COPY rootfs/ /"), "{err}");
    }

    #[test]
    fn progress_shows_the_latest_non_blank_line() {
        let mut log = BuildLog::default();
        let info: BuildInfo =
            serde_json::from_str(r#"{"stream":"Step 1/2 : FROM scratch\n\n"}"#).unwrap();
        assert_eq!(
            log.feed(Ok(info)).unwrap().as_deref(),
            Some("Step 1/2 : FROM scratch")
        );
        let blank: BuildInfo = serde_json::from_str(r#"{"stream":"\n"}"#).unwrap();
        assert_eq!(log.feed(Ok(blank)).unwrap(), None);
    }
}
