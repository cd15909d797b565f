//! `cargo xtask images --registry HOST[:PORT] --push`: sends the built images to the registry a
//! cluster pulls from, through the Docker Engine API (the engine's own push, so its registry
//! settings and credentials apply).

use anyhow::{Context, bail};
use bollard::{Docker, query_parameters::PushImageOptionsBuilder};
use futures::StreamExt;

use super::Built;

/// Pushes every image; a registry that refuses or cannot be reached fails with its message.
pub async fn push_all(docker: &Docker, built: &[Built]) -> anyhow::Result<()> {
    for image in built {
        let (repository, tag) = image
            .reference
            .rsplit_once(':')
            .context("an image reference has a tag")?;
        if !repository.contains('/') {
            bail!(
                "{} names no registry: pass --registry HOST[:PORT] to push",
                image.reference
            );
        }
        let started = std::time::Instant::now();
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut progress = docker.push_image(repository, Some(options), None);
        while let Some(step) = progress.next().await {
            step.with_context(|| {
                format!(
                    "pushing {} (is the registry running, and does the engine trust it? An \
                     HTTP registry other than localhost needs `insecure-registries` in \
                     /etc/docker/daemon.json)",
                    image.reference
                )
            })?;
        }
        println!(
            "    pushed {} in {:.1}s",
            image.reference,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
