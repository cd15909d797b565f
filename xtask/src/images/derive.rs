//! A new image that runs exactly the bytes of another: `FROM base` plus one label. Its digest
//! differs, so a platform treats it as a new version: `test-e2e --rolling` upgrades a running
//! stack to it without a rebuild of the binaries.

use std::collections::HashMap;

use anyhow::Context;
use bollard::Docker;

use super::build::{self, BuildSpec};

/// The label that makes a derived image a version of its own.
pub const ROLLOUT_LABEL: &str = "dev.todo-chatbot.rollout";

/// Builds `reference` as `base` plus the label [`ROLLOUT_LABEL`]=`value`, on the engine (no
/// pull: `base` must be there).
pub async fn derive(
    docker: &Docker,
    base: &str,
    reference: &str,
    value: &str,
) -> anyhow::Result<()> {
    let dockerfile = format!("FROM {base}\n");
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, "Dockerfile", dockerfile.as_bytes())
        .context("writing the derived image's build context")?;
    let context = archive
        .into_inner()
        .context("finishing the derived image's build context")?;
    let spec = BuildSpec {
        reference: reference.to_owned(),
        dockerfile: "Dockerfile".to_owned(),
        context,
        labels: HashMap::from([(ROLLOUT_LABEL.to_owned(), value.to_owned())]),
        build_args: HashMap::new(),
        target: None,
        pull: false,
    };
    build::build(docker, spec, &build::progress_line(reference))
        .await
        .with_context(|| format!("deriving {reference} from {base}"))?;
    Ok(())
}
