//! `cargo xtask up` / `down`: run the whole stack on a target and wait until it is ready.
//!
//! Targets: `minikube` (start Minikube, build the images into it), `kube` (any cluster: the
//! images pushed to a registry it pulls from) — both then install the Helm chart and watch the
//! rollout through kube-rs (see `cluster`) — `docker` (the same images on a Docker Engine) and
//! `local` (the two binaries as processes). Without `--target` the first available one is
//! taken, and `up` says why. What `up` started is recorded (`state`), so `down`, `status` and
//! `logs` find it.

pub mod cluster;
pub mod docker;
pub mod kube;
mod local;
pub mod minikube;
pub mod prereqs;
pub mod secret;
pub mod state;

use std::path::PathBuf;

use anyhow::bail;
use xshell::Shell;

use crate::helm::release::Cluster;

/// Where the stack runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Minikube,
    Kube,
    Docker,
    Local,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Self::Minikube => "minikube",
            Self::Kube => "kube",
            Self::Docker => "docker",
            Self::Local => "local",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Minikube, Self::Kube, Self::Docker, Self::Local]
            .into_iter()
            .find(|t| t.name() == name)
    }

    pub fn is_cluster(self) -> bool {
        matches!(self, Self::Minikube | Self::Kube)
    }
}

/// Where the stack runs: the same flags for `up`, `down`, `status` and `logs`.
#[derive(clap::Args, Debug, Clone)]
pub struct Placement {
    /// Where to run (default: what `up` last started; else minikube if installed, else docker
    /// if an engine answers, else local).
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// Minikube profile (minikube target); also its kube context.
    #[arg(long, default_value = "todo-chatbot")]
    profile: String,
    /// Kubernetes namespace (cluster targets; created if missing).
    #[arg(long, default_value = "todo-chatbot")]
    namespace: String,
    /// Helm release name (cluster targets).
    #[arg(long, default_value = "todo-chatbot")]
    release: String,
    /// Kube context (kube target; default: the kubeconfig's current context).
    #[arg(long)]
    context: Option<String>,
    /// Kubeconfig file (kube target; default: KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
}

/// A placement with its target decided.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: Target,
    pub release: String,
    pub namespace: String,
    pub cluster: Cluster,
    pub profile: String,
}

impl Placement {
    /// `--target` when given; else the stack `up` recorded; else the detected target.
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        let from_flags = |target: Target| Resolved {
            target,
            release: self.release.clone(),
            namespace: self.namespace.clone(),
            cluster: Cluster {
                kubeconfig: self.kubeconfig.clone(),
                context: match target {
                    Target::Minikube => Some(self.profile.clone()),
                    _ => self.context.clone(),
                },
            },
            profile: self.profile.clone(),
        };
        if let Some(target) = self.target {
            return Ok(from_flags(target));
        }
        if let Some(stack) = state::Stack::load()? {
            let Some(target) = Target::from_name(&stack.target) else {
                bail!(
                    "target/up/stack.toml names an unknown target `{}`; pass --target",
                    stack.target
                );
            };
            let mut resolved = from_flags(target);
            resolved.release = stack.release.unwrap_or(resolved.release);
            resolved.namespace = stack.namespace.unwrap_or(resolved.namespace);
            resolved.cluster = Cluster {
                kubeconfig: stack.kubeconfig.or(resolved.cluster.kubeconfig),
                context: stack.context.or(resolved.cluster.context),
            };
            return Ok(resolved);
        }
        let (target, why) = prereqs::Machine::probe(self.kubeconfig.as_ref()).pick();
        println!("==> target {}: {why}", target.name());
        Ok(from_flags(target))
    }
}

/// Build and run the stack, and wait until it is ready.
#[derive(clap::Args, Clone)]
pub struct Up {
    #[command(flatten)]
    placement: Placement,
    /// Registry the cluster pulls from (kube target): the images are pushed there, e.g.
    /// `localhost:5000` or `ghcr.io/you`.
    #[arg(long, value_name = "HOST[:PORT][/PATH]")]
    registry: Option<String>,
    /// Values file for the release (cluster targets; repeatable, later files win; default:
    /// the chart's values-minikube.yaml profile).
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    values: Vec<PathBuf>,
    /// A value for the release, as `helm --set` takes it (cluster targets; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Host port of the UI (docker and local targets).
    #[arg(long, default_value_t = 3000)]
    ui_port: u16,
    /// Host port of the API (docker and local targets).
    #[arg(long, default_value_t = 8000)]
    api_port: u16,
    /// The Cargo profile of the binaries (in the images, or run as processes): `stack` (quick
    /// rebuilds; the default on docker, Minikube and local) or `release` (what users ship; the
    /// default on `--target kube`).
    #[arg(long, value_enum, value_name = "PROFILE")]
    build_profile: Option<crate::images::fastpath::BuildProfile>,
    /// Keep the data in a PostgreSQL server that this machine runs from its installed
    /// binaries (docker target; what `test-e2e --db-outage` stops and starts), instead of SQLite.
    #[arg(long)]
    postgres: bool,
    /// A Prometheus (with the chart's alert rules) and an Alertmanager beside the stack, and the
    /// frontend's dashboard at /ops/dashboard (docker target; on a cluster with
    /// prometheus-operator, the chart's `metrics.*` values instead).
    #[arg(long)]
    monitoring: bool,
    /// Host port of Prometheus (`--monitoring`).
    #[arg(long, default_value_t = 9090)]
    prometheus_port: u16,
    /// Host port of Alertmanager (`--monitoring`).
    #[arg(long, default_value_t = 9093)]
    alertmanager_port: u16,
    /// Longest wait for the stack to become ready, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// Stop and remove what `up` started.
#[derive(clap::Args)]
pub struct Down {
    #[command(flatten)]
    placement: Placement,
    /// Also delete the data (the Docker volume; on a cluster the volume claims and the
    /// namespace).
    #[arg(long)]
    purge: bool,
    /// Longest wait for the removal, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

impl Up {
    /// Decides the target now (detected when `--target` is not given), so that every later
    /// run of these flags (`dev`) uses the same one.
    pub fn pin_target(&mut self) -> Target {
        let target = self.placement.target.unwrap_or_else(|| {
            let machine = prereqs::Machine::probe(self.placement.kubeconfig.as_ref());
            let (target, why) = machine.pick();
            println!("==> target {}: {why}", target.name());
            target
        });
        self.placement.target = Some(target);
        target
    }

    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let machine = prereqs::Machine::probe(self.placement.kubeconfig.as_ref());
        // Without --target, `up` detects afresh rather than repeating the last stack.
        let target = self.placement.target.unwrap_or_else(|| {
            let (target, why) = machine.pick();
            println!("==> target {}: {why}", target.name());
            target
        });
        let missing = machine.missing(target, self.registry.is_some());
        if !missing.is_empty() {
            bail!(prereqs::refusal(target, &missing, &machine.workable()));
        }
        let placement = Placement {
            target: Some(target),
            ..self.placement.clone()
        }
        .resolve()?;
        if self.postgres && target != Target::Docker {
            bail!(
                "--postgres is for the docker target; on a cluster, point the release at your \
                 database (the production profile's `secrets.existingSecret`, see docs/kubernetes.md)"
            );
        }
        if self.monitoring && target == Target::Local {
            bail!(
                "--monitoring runs Prometheus in a container or on the cluster: use the docker, \
                 minikube or kube target"
            );
        }
        println!("==> cargo xtask up --target {}", target.name());
        let timeout = std::time::Duration::from_secs(self.timeout);
        let build_profile = self.build_profile.unwrap_or(match target {
            Target::Kube => crate::images::fastpath::BuildProfile::Release,
            _ => crate::images::fastpath::BuildProfile::Stack,
        });
        let (ui_url, release_inputs, database, monitoring) = match target {
            Target::Minikube | Target::Kube => {
                let deployed = if target == Target::Minikube {
                    minikube::up(
                        sh,
                        &placement,
                        &self.values,
                        &self.set,
                        build_profile,
                        self.monitoring,
                        timeout,
                    )?
                } else {
                    kube::up(
                        sh,
                        &placement,
                        kube::Options {
                            registry: self.registry.as_deref().unwrap_or_default(),
                            values: &self.values,
                            set: &self.set,
                            build_profile,
                            monitoring: self.monitoring,
                        },
                        timeout,
                    )?
                };
                (
                    deployed.ui_url,
                    Some(deployed.inputs),
                    None,
                    deployed.monitoring,
                )
            }
            Target::Docker => {
                let started = docker::up(
                    sh,
                    docker::Options {
                        ui_port: self.ui_port,
                        api_port: self.api_port,
                        postgres: self.postgres,
                        build_profile,
                        monitoring: self.monitoring.then_some(docker::MonitoringPorts {
                            prometheus: self.prometheus_port,
                            alertmanager: self.alertmanager_port,
                        }),
                    },
                    timeout,
                )?;
                (
                    Some(format!("http://127.0.0.1:{}", self.ui_port)),
                    None,
                    started.database,
                    started.monitoring,
                )
            }
            Target::Local => {
                return local::up(sh, self.ui_port, self.api_port, build_profile, timeout);
            }
        };
        if let (Some(urls), Some(ui), true) = (&monitoring, &ui_url, target.is_cluster()) {
            urls.print(ui);
        }
        state::Stack {
            target: target.name().to_owned(),
            release: target.is_cluster().then(|| placement.release.clone()),
            namespace: target.is_cluster().then(|| placement.namespace.clone()),
            kubeconfig: placement.cluster.kubeconfig.clone(),
            context: placement.cluster.context.clone(),
            ui_url,
            release_inputs,
            database,
            monitoring,
        }
        .save()
    }
}

impl Down {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let placement = self.placement.resolve()?;
        let timeout = std::time::Duration::from_secs(self.timeout);
        match placement.target {
            Target::Minikube | Target::Kube => {
                kube::down(sh, &placement, self.purge, timeout)?;
            }
            Target::Docker => {
                let database = state::Stack::load()?.and_then(|stack| stack.database);
                docker::down(self.purge, database.as_ref())?;
            }
            Target::Local => {
                println!("the local target runs in the foreground: stop it with Ctrl-C");
            }
        }
        state::Stack::forget()
    }
}

/// The Helm release a cluster placement names, for reading or removing it (no values), with
/// `timeout` as Helm's bound.
pub fn release_of(
    placement: &Resolved,
    timeout: std::time::Duration,
) -> crate::helm::release::Release {
    kube::release_for(placement, &[], Vec::new(), Vec::new(), timeout)
}
