//! `cargo xtask up` / `down`: run the whole stack on a target and wait until it is ready.
//!
//! Targets: `minikube` (the mission: images built into Minikube, the Helm chart installed or
//! upgraded, rollouts waited for), `docker` (the same images on a Docker Engine) and `local`
//! (the two binaries as processes). Without `--target` the first available one is taken.

mod docker;
mod local;
mod minikube;
mod secret;

use xshell::Shell;

/// Where the stack runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Minikube,
    Docker,
    Local,
}

impl Target {
    /// Minikube when it is installed, else a Docker Engine when one answers, else local processes.
    fn detect() -> Self {
        if which::which("minikube").is_ok() {
            Self::Minikube
        } else if docker::engine_answers() {
            Self::Docker
        } else {
            Self::Local
        }
    }
}

/// Where the stack runs: the same flags for `up` and `down`.
#[derive(clap::Args)]
struct Placement {
    /// Where to run (default: minikube if installed, else docker if an engine answers, else local).
    #[arg(long, value_enum)]
    target: Option<Target>,
    /// Minikube profile (minikube target).
    #[arg(long, default_value = "todo-chatbot")]
    profile: String,
    /// Kubernetes namespace and Helm release name (minikube target).
    #[arg(long, default_value = "todo-chatbot")]
    namespace: String,
}

impl Placement {
    fn target(&self) -> Target {
        self.target.unwrap_or_else(Target::detect)
    }
}

/// Build and run the stack, and wait until it is ready.
#[derive(clap::Args)]
pub struct Up {
    #[command(flatten)]
    placement: Placement,
    /// Host port of the UI (docker and local targets).
    #[arg(long, default_value_t = 3000)]
    ui_port: u16,
    /// Host port of the API (docker and local targets).
    #[arg(long, default_value_t = 8000)]
    api_port: u16,
    /// Longest wait for the stack to become ready, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// Stop and remove what `up` started (pass the `--target` that `up` used, if not the detected one).
#[derive(clap::Args)]
pub struct Down {
    #[command(flatten)]
    placement: Placement,
    /// Also delete the data (the Docker volume; the Minikube namespace with its volume claims).
    #[arg(long)]
    purge: bool,
}

impl Up {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let Placement {
            profile, namespace, ..
        } = &self.placement;
        let target = self.placement.target();
        println!(
            "==> cargo xtask up --target {}",
            format!("{target:?}").to_lowercase()
        );
        let timeout = std::time::Duration::from_secs(self.timeout);
        match target {
            Target::Minikube => minikube::up(sh, profile, namespace, timeout),
            Target::Docker => docker::up(sh, self.ui_port, self.api_port, timeout),
            Target::Local => local::up(sh, self.ui_port, self.api_port, timeout),
        }
    }
}

impl Down {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let Placement {
            profile, namespace, ..
        } = &self.placement;
        match self.placement.target() {
            Target::Minikube => minikube::down(sh, profile, namespace, self.purge),
            Target::Docker => docker::down(self.purge),
            Target::Local => {
                println!("the local target runs in the foreground: stop it with Ctrl-C");
                Ok(())
            }
        }
    }
}
