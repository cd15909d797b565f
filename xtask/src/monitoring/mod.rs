//! `up --monitoring`: a real Prometheus and Alertmanager beside the stack, from the machine's
//! own Debian binaries in images built `FROM scratch` ([`image`]). Prometheus scrapes both
//! services and evaluates the alert rules the chart ships, rendered from the chart itself so
//! that there is one source ([`rules`]); its configuration is written here ([`config`]).
//! On a cluster, [`cluster`] runs the same Prometheus as a Deployment next to the release.
//! [`api`] reads Prometheus's and Alertmanager's HTTP APIs for `test-e2e --monitoring`.

pub mod api;
pub mod cluster;
pub mod config;
pub mod image;
pub mod rules;

/// The containers' names on the stack's network (Prometheus reaches Alertmanager by name, and
/// the frontend's dashboard reaches Prometheus).
pub const PROMETHEUS: &str = "todo-chatbot-prometheus";
pub const ALERTMANAGER: &str = "todo-chatbot-alertmanager";
/// The ports they listen on inside their containers.
pub const PROMETHEUS_PORT: u16 = 9090;
pub const ALERTMANAGER_PORT: u16 = 9093;

/// A program the images are built from: the names it goes by on PATH, and the Debian package
/// that installs it.
pub struct Program {
    pub names: &'static [&'static str],
    pub package: &'static str,
}

pub const PROMETHEUS_PROGRAM: Program = Program {
    names: &["prometheus"],
    package: "prometheus",
};
pub const ALERTMANAGER_PROGRAM: Program = Program {
    names: &["prometheus-alertmanager", "alertmanager"],
    package: "prometheus-alertmanager",
};

/// How often Prometheus scrapes and evaluates the rules. An alert fires within its `for:` plus
/// about two of these.
pub const SCRAPE_INTERVAL_SECONDS: u64 = 5;

/// Where a running Prometheus and Alertmanager answer on this machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Urls {
    pub prometheus: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<String>,
}

impl Urls {
    /// What `up` prints after "ready:".
    pub fn print(&self, ui_url: &str) {
        println!(
            "       Prometheus {}/classic/alerts (targets: /classic/targets, queries: /classic/graph)",
            self.prometheus
        );
        if let Some(alertmanager) = &self.alertmanager {
            println!("       Alertmanager {alertmanager}/");
        }
        println!("       dashboard {ui_url}/ops/dashboard");
    }
}
