//! `cargo xtask status`: the state of the stack `up` started, on whatever target it runs.

use xshell::Shell;

use crate::{
    helm::release::Engine,
    kube,
    runtime::block_on,
    up::{Placement, Target, docker, minikube},
};

/// Show the stack: release, Deployments, pods (readiness, restarts, images), autoscalers, URLs.
#[derive(clap::Args)]
pub struct Status {
    #[command(flatten)]
    placement: Placement,
}

impl Status {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let placement = self.placement.resolve()?;
        match placement.target {
            Target::Minikube | Target::Kube => {
                let release = crate::up::release_of(&placement, std::time::Duration::from_secs(60));
                let engine = Engine::detect()?;
                match release.status(sh, &engine)? {
                    Some(status) => println!(
                        "release {} in namespace {}: revision {}, {}",
                        release.name, release.namespace, status.revision, status.status
                    ),
                    None => println!(
                        "release {} is not installed in namespace {}",
                        release.name, release.namespace
                    ),
                }
                let (client, server) = block_on(kube::connect(&placement.cluster))??;
                let node_host = if placement.target == Target::Minikube {
                    minikube::node_ip(sh, &placement.profile)?
                } else {
                    block_on(kube::node_host(&client, &server))?
                };
                block_on(kube::status::print(
                    &client,
                    &placement.namespace,
                    &placement.release,
                    &node_host,
                ))??;
                Ok(())
            }
            Target::Docker => docker::status(),
            Target::Local => {
                println!(
                    "the local target runs in the foreground of `cargo xtask up --target local`; \
                     its logs are in target/up/"
                );
                Ok(())
            }
        }
    }
}
