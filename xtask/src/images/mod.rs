//! `cargo xtask images`: builds the service images through the Docker Engine API, prints what it
//! built, and with `--check` proves each image runs on its own.
//!
//! Fast path (default): static binaries from the host in `scratch` images (see `fastpath`).
//! `--hermetic`: `deploy/docker/Dockerfile`, for engines that can pull the Rust base image.

pub mod build;
pub mod check;
pub mod context;
pub mod derive;
pub mod fastpath;
pub mod prune;
pub mod push;
pub mod tags;

use crate::catalog::{SERVICES, Service};
use std::{collections::HashMap, time::Instant};

use anyhow::Context;
use bollard::{
    Docker,
    query_parameters::{ListImagesOptionsBuilder, TagImageOptionsBuilder},
};
use xshell::{Shell, cmd};

use crate::project;

/// Build the service images (static binaries in `scratch` images), optionally check and load them.
#[derive(clap::Args)]
pub struct Images {
    /// Registry prefix for the image names, e.g. `ghcr.io/acme` (default: local names only).
    #[arg(long, value_name = "PREFIX")]
    registry: Option<String>,
    /// The Docker Engine to use, e.g. `tcp://192.168.49.2:2376` (default: `DOCKER_HOST`, else
    /// the local socket); TLS follows `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` as `minikube docker-env` sets them.
    #[arg(long, env = "DOCKER_HOST", value_name = "URL")]
    engine: Option<String>,
    /// After building, copy the images into this Minikube profile with `minikube image load`.
    #[arg(long, value_name = "PROFILE")]
    load: Option<String>,
    /// The Cargo profile of the binaries: `release` (what users ship) or `stack` (quick
    /// rebuilds for a stack under development).
    #[arg(long, value_enum, default_value_t)]
    pub build_profile: fastpath::BuildProfile,
    /// Build from `deploy/docker/Dockerfile` (the engine must be able to pull `rust:1.95`).
    #[arg(long)]
    hermetic: bool,
    /// The images' tag (default: the short git commit, plus `-dirty.<hash>` when the working
    /// tree has uncommitted changes). `latest` is refused.
    #[arg(long)]
    tag: Option<String>,
    /// Rebuild even when an image with the same content already exists.
    #[arg(long)]
    force: bool,
    /// Then run each image locked down, exercise it, stop it, and clean up (see docs/containers.md).
    #[arg(long)]
    check: bool,
    /// Then push the images to the `--registry` (for clusters that pull from it).
    #[arg(long, requires = "registry")]
    push: bool,
    /// Then remove this project's images under any other tag (earlier builds), except those a
    /// container still uses.
    #[arg(long)]
    prune: bool,
}

/// The label that records the digest of an image's build context, so an unchanged image is
/// found again instead of being rebuilt.
const CONTEXT_DIGEST_LABEL: &str = "dev.todo-chatbot.context-digest";

/// What became of one image in this run.
#[derive(Debug)]
pub struct Built {
    pub service: &'static Service,
    pub reference: String,
    pub tag: String,
    pub size_bytes: i64,
    pub seconds: f64,
    pub outcome: &'static str,
}

impl Images {
    /// The default build with `--check`, on `engine` (or the local one): what the `images`
    /// suite of `cargo xtask test` runs.
    pub fn checked_release(engine: Option<String>) -> Self {
        Self {
            registry: None,
            engine,
            load: None,
            build_profile: fastpath::BuildProfile::Release,
            hermetic: false,
            tag: None,
            force: false,
            check: true,
            push: false,
            prune: false,
        }
    }

    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut revision = tags::Revision::current(sh)?;
        if let Some(tag) = &self.tag {
            tags::validate_tag(tag)?;
            revision.tag = tag.clone();
        }
        if !self.hermetic {
            fastpath::build_static_binaries(sh, &SERVICES, self.build_profile)?;
        }
        let built = crate::runtime::block_on(async {
            let docker = crate::engine::connect(self.engine.as_deref()).await?;
            let built = self.build_all(&docker, &revision).await?;
            if self.check {
                check::run(&docker, &built).await?;
            }
            if self.push {
                push::push_all(&docker, &built).await?;
            }
            if self.prune {
                let registry = self.registry.as_deref();
                report_prune(&prune::stale_tags(&docker, registry, &revision.tag).await?);
            }
            // Last, so the figures stand at the end of the output.
            print_table(&built);
            anyhow::Ok(built)
        })??;
        if let Some(profile) = &self.load {
            load_into_minikube(sh, profile, &built)?;
        }
        println!("images: done in {:.1}s", started.elapsed().as_secs_f64());
        Ok(())
    }

    async fn build_all(
        &self,
        docker: &Docker,
        revision: &tags::Revision,
    ) -> anyhow::Result<Vec<Built>> {
        let hermetic_context = if self.hermetic {
            Some(context::folder_context(
                &project::root(),
                &[HERMETIC_DOCKERFILE],
            )?)
        } else {
            None
        };
        let mut built = Vec::new();
        for service in &SERVICES {
            let started = Instant::now();
            let reference =
                tags::image_reference(self.registry.as_deref(), service.image, &revision.tag)?;
            let labels = oci_labels(service, revision)?;
            let progress = build::progress_line(service.image);
            let outcome = match &hermetic_context {
                Some(context) => {
                    let spec = build::BuildSpec {
                        reference: reference.clone(),
                        dockerfile: HERMETIC_DOCKERFILE.to_owned(),
                        context: context.clone(),
                        labels: HashMap::new(),
                        build_args: hermetic_build_args(&labels),
                        target: Some(service.binary.to_owned()),
                        pull: true,
                    };
                    build::build(docker, spec, &progress).await.context(
                        "the hermetic build needs an engine that can pull rust:1.95-bookworm; \
                         without one, leave out --hermetic to use host-built static binaries",
                    )?;
                    "built (hermetic)"
                }
                None => {
                    self.build_fast(docker, service, &reference, &labels, &progress)
                        .await?
                }
            };
            progress.finish_and_clear();
            let inspected = docker
                .inspect_image(&reference)
                .await
                .with_context(|| format!("inspecting the image {reference}"))?;
            built.push(Built {
                service,
                reference,
                tag: revision.tag.clone(),
                size_bytes: inspected.size.unwrap_or_default(),
                seconds: started.elapsed().as_secs_f64(),
                outcome,
            });
        }
        Ok(built)
    }

    /// Builds one scratch image, unless an image built from the same context exists (then it
    /// only gets this run's tag).
    async fn build_fast(
        &self,
        docker: &Docker,
        service: &Service,
        reference: &str,
        labels: &[(String, String)],
        progress: &indicatif::ProgressBar,
    ) -> anyhow::Result<&'static str> {
        let context = fastpath::context(service, self.build_profile, labels)?;
        // The identity of an image is what it runs, not which commit built it: the digest leaves
        // out the labels that change with every commit, so a commit that leaves the binary's
        // bytes as they were (docs, tests, the chart) reuses the image and rolls no pod. The
        // reused image keeps the revision of the commit that first built those bytes.
        let digest = tags::hex_digest(&fastpath::context(
            service,
            self.build_profile,
            &lasting_labels(labels),
        )?);
        let existing = if self.force {
            None
        } else {
            image_with_digest(docker, &digest).await?
        };
        if let Some(existing) = existing {
            if existing.1.iter().any(|t| t == reference) {
                return Ok("unchanged");
            }
            let (repo, tag) = reference
                .rsplit_once(':')
                .context("an image reference has a tag")?;
            let options = TagImageOptionsBuilder::default()
                .repo(repo)
                .tag(tag)
                .build();
            docker
                .tag_image(&existing.0, Some(options))
                .await
                .with_context(|| {
                    format!("tagging the existing image {} as {reference}", existing.0)
                })?;
            return Ok("unchanged, re-tagged");
        }
        let spec = build::BuildSpec {
            reference: reference.to_owned(),
            dockerfile: "Dockerfile".to_owned(),
            context,
            labels: HashMap::from([(CONTEXT_DIGEST_LABEL.to_owned(), digest)]),
            build_args: HashMap::new(),
            target: None,
            pull: false,
        };
        build::build(docker, spec, progress).await?;
        Ok("built")
    }
}

fn report_prune(pruned: &prune::Pruned) {
    println!(
        "pruned {} earlier tag(s) of this project's images",
        pruned.removed.len()
    );
    for reference in &pruned.in_use {
        println!("  kept {reference}: a container uses it");
    }
}

/// The Dockerfile of the hermetic path, relative to the repository root.
const HERMETIC_DOCKERFILE: &str = "deploy/docker/Dockerfile";

/// The tag `cargo xtask images` gives the images of the current source state.
pub fn current_tag(sh: &Shell) -> anyhow::Result<String> {
    Ok(tags::Revision::current(sh)?.tag)
}

/// The id and tags of an image built from a context with this digest, if the engine has one.
async fn image_with_digest(
    docker: &Docker,
    digest: &str,
) -> anyhow::Result<Option<(String, Vec<String>)>> {
    let images = images_labelled(docker, &format!("{CONTEXT_DIGEST_LABEL}={digest}")).await?;
    Ok(images
        .into_iter()
        .next()
        .map(|image| (image.id, image.repo_tags)))
}

/// The engine's images matching a label filter (`key` or `key=value`).
async fn images_labelled(
    docker: &Docker,
    label: &str,
) -> anyhow::Result<Vec<bollard::models::ImageSummary>> {
    let filters = HashMap::from([("label".to_owned(), vec![label.to_owned()])]);
    let options = ListImagesOptionsBuilder::default()
        .filters(&filters)
        .build();
    docker
        .list_images(Some(options))
        .await
        .context("listing the engine's images")
}

/// The `org.opencontainers.image.*` labels for a service at a revision. Version, licence and
/// source are the workspace's (`[workspace.package]`, which the xtask inherits like the
/// services), as Cargo hands them to this build.
fn oci_labels(
    service: &Service,
    revision: &tags::Revision,
) -> anyhow::Result<Vec<(String, String)>> {
    let label =
        |key: &str, value: &str| (format!("org.opencontainers.image.{key}"), value.to_owned());
    Ok(vec![
        label("title", service.image),
        label("description", service.description),
        label("source", env!("CARGO_PKG_REPOSITORY")),
        label("revision", &revision.commit),
        label("version", env!("CARGO_PKG_VERSION")),
        label("created", &revision.commit_time),
        label("licenses", env!("CARGO_PKG_LICENSE")),
    ])
}

/// The labels that do not change from one commit to the next (not `revision`, `created`).
fn lasting_labels(labels: &[(String, String)]) -> Vec<(String, String)> {
    labels
        .iter()
        .filter(|(key, _)| !key.ends_with(".revision") && !key.ends_with(".created"))
        .cloned()
        .collect()
}

/// The hermetic Dockerfile's build arguments, from the same labels.
fn hermetic_build_args(labels: &[(String, String)]) -> HashMap<String, String> {
    labels
        .iter()
        .filter_map(|(key, value)| {
            let arg = match key.strip_prefix("org.opencontainers.image.")? {
                "source" => "SOURCE",
                "revision" => "REVISION",
                "version" => "VERSION",
                "created" => "CREATED",
                _ => return None,
            };
            Some((arg.to_owned(), value.clone()))
        })
        .collect()
}

fn print_table(built: &[Built]) {
    println!();
    println!(
        "{:<28} {:<32} {:>9} {:>10}  result",
        "image", "tag", "size MB", "seconds"
    );
    for image in built {
        let name = image
            .reference
            .rsplit_once(':')
            .map_or(image.reference.as_str(), |(name, _)| name);
        // Uncompressed size as the engine reports it, in MB (10^6 bytes) like `docker images`.
        let megabytes = image.size_bytes as f64 / 1_000_000.0;
        println!(
            "{name:<28} {:<32} {megabytes:>9.1} {:>10.1}  {}",
            image.tag, image.seconds, image.outcome
        );
    }
    println!();
}

fn load_into_minikube(sh: &Shell, profile: &str, built: &[Built]) -> anyhow::Result<()> {
    let minikube = project::require_tool(
        "minikube",
        "see https://minikube.sigs.k8s.io/docs/start/ (or build inside Minikube: eval $(minikube docker-env))",
    )?;
    for image in built {
        let reference = &image.reference;
        println!("loading {reference} into Minikube profile {profile}");
        cmd!(sh, "{minikube} -p {profile} image load {reference}")
            .run()
            .with_context(|| {
                format!("loading {reference} into the Minikube profile `{profile}`")
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reuse_digest_ignores_the_labels_that_change_with_every_commit() {
        let revision = |commit: &str, time: &str| tags::Revision {
            commit: commit.to_owned(),
            commit_time: time.to_owned(),
            tag: "t".to_owned(),
        };
        let [backend, _] = &SERVICES;
        let one =
            oci_labels(backend, &revision("aaaa", "2026-12-01T00:00:00Z")).unwrap_or_default();
        let two =
            oci_labels(backend, &revision("bbbb", "2026-12-02T00:00:00Z")).unwrap_or_default();
        assert_ne!(one, two);
        assert_eq!(lasting_labels(&one), lasting_labels(&two));
        assert!(
            lasting_labels(&one)
                .iter()
                .any(|(k, _)| k.ends_with(".title"))
        );
    }
}
