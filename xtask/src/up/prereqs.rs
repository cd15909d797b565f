//! What each target needs on this machine, checked all at once before anything starts, so a
//! user reads every missing piece with its install command in one go.

use std::path::PathBuf;

use super::Target;

/// One thing a target needs that this machine lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub what: &'static str,
    pub fix: String,
}

/// What this machine has, as far as the targets care.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub minikube: bool,
    pub helm_engine: bool,
    pub docker_engine: bool,
    pub kubeconfig: bool,
}

impl Machine {
    pub fn probe(kubeconfig: Option<&PathBuf>) -> Self {
        Self {
            minikube: which::which("minikube").is_ok(),
            helm_engine: crate::helm::release::Engine::detect().is_ok(),
            docker_engine: super::docker::engine_answers(),
            kubeconfig: kubeconfig_exists(kubeconfig),
        }
    }

    /// Everything `target` needs that is missing (`registry`: whether `--registry` was given).
    pub fn missing(&self, target: Target, registry: bool) -> Vec<Missing> {
        let mut missing = Vec::new();
        let mut need = |have: bool, what: &'static str, fix: &str| {
            if !have {
                missing.push(Missing {
                    what,
                    fix: fix.to_owned(),
                });
            }
        };
        let helm_fix = "install Helm 3 (https://helm.sh/docs/intro/install/), or the project's \
                        Helm engine with `cargo xtask doctor --install`";
        match target {
            Target::Minikube => {
                need(
                    self.minikube,
                    "minikube",
                    "install it: https://minikube.sigs.k8s.io/docs/start/ (Debian/Ubuntu: the \
                     minikube .deb from that page)",
                );
                need(self.helm_engine, "Helm", helm_fix);
            }
            Target::Kube => {
                need(
                    self.kubeconfig,
                    "a kubeconfig",
                    "point KUBECONFIG (or --kubeconfig) at your cluster's kubeconfig, or create \
                     a cluster (`kind create cluster`, `k3d cluster create`)",
                );
                need(self.helm_engine, "Helm", helm_fix);
                need(
                    self.docker_engine,
                    "a Docker Engine (to build and push the images)",
                    "install and start one: `apt-get install docker.io` (or Docker Desktop)",
                );
                need(
                    registry,
                    "--registry HOST[:PORT]",
                    "name a registry the cluster pulls from, e.g. `--registry localhost:5000` \
                     (a local registry such as kind's or kube-lab's) or `--registry ghcr.io/you`",
                );
            }
            Target::Docker => need(
                self.docker_engine,
                "a Docker Engine",
                "install and start one: `apt-get install docker.io` (or Docker Desktop)",
            ),
            Target::Local => {}
        }
        missing
    }

    /// The target `up` takes without `--target`, and why.
    pub fn pick(&self) -> (Target, &'static str) {
        if self.minikube {
            (Target::Minikube, "minikube is installed")
        } else if self.docker_engine {
            (
                Target::Docker,
                "no minikube, and a Docker Engine answers (`--target kube` deploys to any cluster)",
            )
        } else {
            (
                Target::Local,
                "neither minikube nor a Docker Engine: the binaries run as local processes",
            )
        }
    }

    /// Targets whose needs this machine meets now (`--target kube` counts without a registry).
    pub fn workable(&self) -> Vec<Target> {
        [
            Target::Minikube,
            Target::Kube,
            Target::Docker,
            Target::Local,
        ]
        .into_iter()
        .filter(|t| self.missing(*t, true).is_empty())
        .collect()
    }
}

/// The message for a target this machine cannot run: every missing piece, then what would work.
pub fn refusal(target: Target, missing: &[Missing], workable: &[Target]) -> String {
    let mut text = format!(
        "`cargo xtask up --target {}` cannot run here:",
        target.name()
    );
    for item in missing {
        text.push_str(&format!("\n  - {}: {}", item.what, item.fix));
    }
    let others: Vec<String> = workable
        .iter()
        .filter(|t| **t != target)
        .map(|t| format!("`--target {}`", t.name()))
        .collect();
    if !others.is_empty() {
        text.push_str(&format!(
            "\nwhat works on this machine now: {}",
            others.join(", ")
        ));
    }
    text
}

fn kubeconfig_exists(explicit: Option<&PathBuf>) -> bool {
    if let Some(path) = explicit {
        return path.exists();
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&paths).any(|p| p.exists());
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".kube").join("config").exists())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minikube_without_minikube_names_every_missing_piece_and_what_works() {
        let machine = Machine {
            docker_engine: true,
            ..Machine::default()
        };
        let missing = machine.missing(Target::Minikube, false);
        let names: Vec<_> = missing.iter().map(|m| m.what).collect();
        assert_eq!(names, ["minikube", "Helm"]);
        let text = refusal(Target::Minikube, &missing, &machine.workable());
        assert!(text.contains("minikube.sigs.k8s.io"), "{text}");
        assert!(text.contains("cargo xtask doctor --install"), "{text}");
        assert!(
            text.contains("what works on this machine now: `--target docker`, `--target local`"),
            "{text}"
        );
    }

    #[test]
    fn kube_needs_a_cluster_helm_an_engine_and_a_registry() {
        let nothing = Machine::default();
        assert_eq!(nothing.missing(Target::Kube, false).len(), 4);
        let ready = Machine {
            helm_engine: true,
            docker_engine: true,
            kubeconfig: true,
            minikube: false,
        };
        assert!(ready.missing(Target::Kube, true).is_empty());
        let without_registry = ready.missing(Target::Kube, false);
        assert_eq!(without_registry.len(), 1);
        assert!(without_registry[0].fix.contains("localhost:5000"));
    }

    #[test]
    fn the_pick_prefers_minikube_then_docker_then_local_and_says_why() {
        let mut machine = Machine::default();
        assert_eq!(machine.pick().0, Target::Local);
        machine.docker_engine = true;
        assert_eq!(machine.pick().0, Target::Docker);
        machine.minikube = true;
        let (target, why) = machine.pick();
        assert_eq!(target, Target::Minikube);
        assert!(why.contains("installed"));
    }
}
