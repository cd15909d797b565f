//! `cargo xtask logs [backend|frontend] [--follow]`: the services' logs from whatever target is
//! up, each line prefixed with the pod or container it came from.

use anyhow::Context;
use xshell::Shell;

use crate::{
    kube,
    runtime::block_on,
    up::{Placement, Target, docker},
};

/// The services' JSON log lines (both services unless one is named).
#[derive(clap::Args)]
pub struct Logs {
    /// Only this service.
    #[arg(value_parser = ["backend", "frontend"])]
    service: Option<String>,
    /// Keep printing new lines (and new pods, restarted containers) until Ctrl-C.
    #[arg(long, short)]
    follow: bool,
    /// Lines of history per pod or container.
    #[arg(long, default_value_t = 100)]
    tail: u64,
    #[command(flatten)]
    placement: Placement,
}

impl Logs {
    pub fn run(self, _sh: &Shell) -> anyhow::Result<()> {
        let placement = self.placement.resolve()?;
        let tail = i64::try_from(self.tail).context("--tail is too large")?;
        match placement.target {
            Target::Minikube | Target::Kube => {
                let (client, _) = block_on(kube::connect(&placement.cluster))??;
                let selection = kube::logs::Selection {
                    namespace: &placement.namespace,
                    release: &placement.release,
                    component: self.service.as_deref(),
                };
                if self.follow {
                    block_on(kube::logs::follow(&client, &selection, tail))?
                } else {
                    block_on(kube::logs::print(&client, &selection, tail))?
                }
            }
            Target::Docker => docker::logs(self.service.as_deref(), self.follow, self.tail),
            Target::Local => {
                let dir = crate::project::root().join("target").join("up");
                for service in ["backend", "frontend"] {
                    if self.service.as_deref().is_some_and(|s| s != service) {
                        continue;
                    }
                    let path = dir.join(format!("{service}.log"));
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let lines: Vec<&str> = text.lines().collect();
                    let start = lines.len().saturating_sub(self.tail as usize);
                    for line in &lines[start..] {
                        println!("[{service}] {line}");
                    }
                }
                Ok(())
            }
        }
    }
}
