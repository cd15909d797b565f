//! What the end-to-end modes ask of the target, and only the target knows how to do: replace a
//! service with a new version, kill a backend without warning, read each instance's memory and
//! replica counts, reach the stack's database. The scenarios call these and stay
//! target-agnostic: Kubernetes through kube-rs and Helm, docker through bollard.

pub mod docker;
pub mod kube;

use std::collections::BTreeMap;

use anyhow::bail;

use crate::{catalog::Service, postgres::Server, runtime::block_on, up::state::Stack};

/// The target of a running stack, as far as the modes need it.
pub enum Operator {
    Docker(docker::DockerStack),
    Kube(Box<kube::KubeStack>),
    /// A URL only (`--base-url` without a recorded stack, or the local target): the functional
    /// scenarios and `--load` work; the modes that act on the stack say why they cannot.
    Url(String),
}

/// What a rolling replacement of one service did.
#[derive(Debug)]
pub enum Rolled {
    /// Every instance now runs the new version.
    Replaced { instances: Vec<String> },
    /// The target cannot replace this service without a gap; why.
    NotWithoutGap(String),
}

impl Operator {
    /// The operator for the recorded stack.
    pub fn for_stack(stack: &Stack) -> anyhow::Result<Self> {
        match stack.target.as_str() {
            "docker" => Ok(Self::Docker(block_on(docker::DockerStack::connect(
                stack,
            ))??)),
            "kube" | "minikube" => Ok(Self::Kube(Box::new(block_on(kube::KubeStack::connect(
                stack,
            ))??))),
            other => Ok(Self::Url(format!(
                "the {other} target (its processes run in the foreground of `up`)"
            ))),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::Docker(_) => "docker".to_owned(),
            Self::Kube(stack) => format!("{} (namespace {})", stack.target, stack.namespace),
            Self::Url(what) => what.clone(),
        }
    }

    fn refuse(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "{what} needs a stack that `cargo xtask up` started (docker, kube or minikube \
             target); this run has {}",
            self.name()
        )
    }

    /// How many backend instances serve now.
    pub fn backend_instances(&self) -> anyhow::Result<usize> {
        match self {
            Self::Docker(_) => Ok(1),
            Self::Kube(stack) => block_on(stack.backend_instances())?,
            Self::Url(_) => Err(self.refuse("counting the backend's instances")),
        }
    }

    /// Replaces `service` with a new version (a new image of the same bytes), each new
    /// instance ready before an old one is told to stop, where the target can.
    pub fn roll(&self, service: &Service) -> anyhow::Result<Rolled> {
        match self {
            Self::Docker(stack) => block_on(stack.roll(service))?,
            Self::Kube(stack) => stack.roll(service),
            Self::Url(_) => Err(self.refuse("--rolling")),
        }
    }

    /// Kills one backend instance with no warning (SIGKILL); returns its name.
    pub fn kill_backend(&self) -> anyhow::Result<String> {
        match self {
            Self::Docker(stack) => block_on(stack.kill_backend())?,
            Self::Kube(stack) => block_on(stack.kill_backend())?,
            Self::Url(_) => Err(self.refuse("--chaos")),
        }
    }

    /// Takes the backend down until [`Operator::start_backend`] (docker target).
    pub fn stop_backend(&self) -> anyhow::Result<()> {
        match self {
            Self::Docker(stack) => block_on(stack.set_backend_running(false))?,
            _ => Err(self.refuse("stopping the backend (--monitoring, docker target)")),
        }
    }

    pub fn start_backend(&self) -> anyhow::Result<()> {
        match self {
            Self::Docker(stack) => block_on(stack.set_backend_running(true))?,
            _ => Err(self.refuse("starting the backend (--monitoring, docker target)")),
        }
    }

    /// Restarts the stack's Prometheus with no data (docker target, `up --monitoring`).
    pub fn restart_prometheus(&self) -> anyhow::Result<()> {
        match self {
            Self::Docker(stack) => block_on(stack.restart_prometheus())?,
            _ => Err(self.refuse("restarting Prometheus (--monitoring, docker target)")),
        }
    }

    /// Container restarts so far, by container or pod.
    pub fn restarts(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        match self {
            Self::Docker(stack) => block_on(stack.restarts())?,
            Self::Kube(stack) => block_on(stack.restarts())?,
            Self::Url(_) => Err(self.refuse("counting restarts")),
        }
    }

    /// The status the backend's own `/readyz` answers (docker target: its published port).
    pub fn backend_readiness(&self) -> anyhow::Result<u16> {
        match self {
            Self::Docker(stack) => block_on(stack.backend_readiness())?,
            _ => Err(self.refuse("reading the backend's own readiness")),
        }
    }

    /// The `/metrics` text of each backend instance (the UI's origin does not publish it).
    pub fn backend_metrics(&self) -> anyhow::Result<Vec<String>> {
        match self {
            Self::Docker(stack) => block_on(stack.backend_metrics())?,
            Self::Kube(stack) => block_on(stack.backend_metrics(crate::catalog::SERVICES[0].port))?,
            Self::Url(_) => Err(self.refuse("reading the backend's /metrics")),
        }
    }

    /// Resident memory of each running instance, in bytes.
    pub fn memory(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        match self {
            Self::Docker(stack) => block_on(stack.memory())?,
            Self::Kube(stack) => block_on(stack.memory())?,
            Self::Url(_) => Err(self.refuse("reading memory (--soak)")),
        }
    }

    /// The autoscalers' current replicas, where there are autoscalers.
    pub fn autoscaled(&self) -> anyhow::Result<Option<BTreeMap<String, i32>>> {
        match self {
            Self::Kube(stack) => block_on(stack.autoscaled())?.map(Some),
            _ => Ok(None),
        }
    }

    /// The database this machine runs for the stack (`up --target docker --postgres`).
    pub fn database(&self) -> anyhow::Result<&Server> {
        match self {
            Self::Docker(stack) => match &stack.database {
                Some(server) => Ok(server),
                None => bail!(
                    "--db-outage needs the stack's PostgreSQL server under this machine's \
                     control: start the stack with `cargo xtask up --target docker --postgres`"
                ),
            },
            Self::Kube(_) => bail!(
                "--db-outage stops a database this machine runs; the cluster's database is \
                 yours to stop (see docs/testing.md): use `up --target docker --postgres`"
            ),
            Self::Url(_) => Err(self.refuse("--db-outage")),
        }
    }
}

/// A tag no earlier rollout used: `<tag>-roll<time>`.
pub fn rollout_tag(base_tag: &str) -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let base = base_tag.split("-roll").next().unwrap_or(base_tag);
    format!("{base}-roll{seconds}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollout_tag_replaces_an_earlier_rollout_suffix() {
        let first = rollout_tag("1a2b3c4");
        assert!(first.starts_with("1a2b3c4-roll"), "{first}");
        let second = rollout_tag(&first);
        assert!(second.starts_with("1a2b3c4-roll"), "{second}");
        assert_eq!(second.matches("-roll").count(), 1, "{second}");
    }
}
