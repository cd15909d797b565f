//! The `images` suite of `cargo xtask test`: the default build plus `--check`, then `--prune`
//! proven against the real engine.

use anyhow::Context;
use bollard::query_parameters::TagImageOptionsBuilder;
use xshell::Shell;

use crate::{
    catalog::SERVICES,
    engine, images,
    project::{self, Outcome},
};

/// Runs the suite on the engine `DOCKER_HOST` names (or the local one). No engine is a skip
/// outside CI, a failure in CI.
pub fn suite(sh: &Shell) -> anyhow::Result<Outcome> {
    let engine = std::env::var("DOCKER_HOST").ok();
    let reachable = crate::runtime::block_on(engine::connect(engine.as_deref()))?;
    if let Err(err) = reachable {
        return project::skip_or_fail("images", &format!("no Docker Engine: {err:#}"));
    }
    let engine_for_proof = engine.clone();
    let images = images::Images::checked_release(engine);
    images.run(sh)?;
    prove_prune(sh, engine_for_proof.as_deref())?;
    Ok(Outcome::Passed)
}

/// `--prune` against the real engine, under a prefix of its own so the developer's images are
/// untouched: an extra tag of the image just built is removed, the current one kept.
fn prove_prune(sh: &Shell, engine: Option<&str>) -> anyhow::Result<()> {
    const PREFIX: &str = "prune-check.invalid";
    let tag = images::current_tag(sh)?;
    let [backend, _] = &SERVICES;
    let current = format!("{}:{tag}", backend.image);
    crate::runtime::block_on(async {
        let docker = engine::connect(engine).await?;
        for stale_or_kept in ["stale", tag.as_str()] {
            let options = TagImageOptionsBuilder::default()
                .repo(&format!("{PREFIX}/{}", backend.image))
                .tag(stale_or_kept)
                .build();
            docker
                .tag_image(&current, Some(options))
                .await
                .with_context(|| format!("tagging {current} for the prune check"))?;
        }
        let pruned = images::prune::stale_tags(&docker, Some(PREFIX), &tag).await?;
        let stale = format!("{PREFIX}/{}:stale", backend.image);
        let kept = format!("{PREFIX}/{}:{tag}", backend.image);
        anyhow::ensure!(
            pruned.removed == [stale.clone()],
            "prune removed {:?}, expected exactly {stale}",
            pruned.removed
        );
        docker
            .inspect_image(&kept)
            .await
            .with_context(|| format!("prune removed the current tag {kept}"))?;
        docker
            .inspect_image(&current)
            .await
            .with_context(|| format!("prune removed {current}, outside its prefix"))?;
        docker
            .remove_image(
                &kept,
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            )
            .await
            .with_context(|| format!("removing {kept}"))?;
        println!("    prune removed {stale} and kept {kept} and {current}");
        anyhow::Ok(())
    })?
}
