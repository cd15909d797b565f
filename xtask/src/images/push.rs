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
        push(docker, &image.reference).await?;
    }
    Ok(())
}

/// Pushes one `registry/name:tag`.
pub async fn push(docker: &Docker, reference: &str) -> anyhow::Result<()> {
    let (repository, tag) = reference
        .rsplit_once(':')
        .context("an image reference has a tag")?;
    if !repository.contains('/') {
        bail!("{reference} names no registry: pass --registry HOST[:PORT] to push");
    }
    let started = std::time::Instant::now();
    let options = PushImageOptionsBuilder::default().tag(tag).build();
    let mut progress = docker.push_image(repository, Some(options), None);
    while let Some(step) = progress.next().await {
        step.with_context(|| {
            format!(
                "pushing {reference} (is the registry running, and does the engine trust it? An \
                 HTTP registry other than localhost needs `insecure-registries` in \
                 /etc/docker/daemon.json)"
            )
        })?;
    }
    println!(
        "    pushed {reference} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
