//! `cargo xtask images --prune`: every uncommitted state gets its own tag, so repeated builds
//! leave images behind. This removes this project's tags other than the one just built, and
//! keeps any image a container still uses.

use anyhow::Context;
use bollard::{Docker, query_parameters::RemoveImageOptions};

use super::{CONTEXT_DIGEST_LABEL, images_labelled};
use crate::catalog::SERVICES;

/// What a prune did.
#[derive(Debug, Default)]
pub struct Pruned {
    /// The references removed (`name:tag`).
    pub removed: Vec<String>,
    /// The references kept because a container uses their image.
    pub in_use: Vec<String>,
}

/// Removes every tag of this project's fast-path images (those with the context-digest label
/// and one of the service image names, under the `registry` prefix or none) except `keep_tag`.
pub async fn stale_tags(
    docker: &Docker,
    registry: Option<&str>,
    keep_tag: &str,
) -> anyhow::Result<Pruned> {
    let images = images_labelled(docker, CONTEXT_DIGEST_LABEL).await?;
    let mut pruned = Pruned::default();
    for reference in images.iter().flat_map(|image| &image.repo_tags) {
        if !is_stale(reference, registry, keep_tag) {
            continue;
        }
        match docker
            .remove_image(reference, None::<RemoveImageOptions>, None)
            .await
        {
            Ok(_) => pruned.removed.push(reference.clone()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => pruned.in_use.push(reference.clone()),
            Err(err) => return Err(err).with_context(|| format!("removing {reference}")),
        }
    }
    Ok(pruned)
}

/// True for `[registry/]<service image>:<tag>` under exactly `registry` (none: a bare name),
/// with a tag other than `keep_tag`.
fn is_stale(reference: &str, registry: Option<&str>, keep_tag: &str) -> bool {
    let Some((name, tag)) = reference.rsplit_once(':') else {
        return false;
    };
    let (prefix, image) = match name.rsplit_once('/') {
        Some((prefix, image)) => (Some(prefix), image),
        None => (None, name),
    };
    let registry = registry
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| !r.is_empty());
    tag != keep_tag && prefix == registry && SERVICES.iter().any(|service| service.image == image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_other_tags_of_the_service_images_under_the_same_prefix_are_stale() {
        let keep = "0123456789ab";
        assert!(is_stale(
            "todo-chatbot-backend:0123456789ab-dirty.aa",
            None,
            keep
        ));
        assert!(!is_stale("todo-chatbot-backend:0123456789ab", None, keep));
        assert!(
            !is_stale("postgres:15", None, keep),
            "other images are left alone"
        );
        assert!(!is_stale("<none>", None, keep));
        let acme = Some("ghcr.io/acme");
        assert!(is_stale(
            "ghcr.io/acme/todo-chatbot-frontend:old",
            acme,
            keep
        ));
        assert!(!is_stale(
            "ghcr.io/acme/todo-chatbot-frontend:old",
            None,
            keep
        ));
        assert!(!is_stale("todo-chatbot-frontend:old", acme, keep));
        assert!(!is_stale(
            "ghcr.io/other/todo-chatbot-frontend:old",
            acme,
            keep
        ));
    }
}
