//! What the project ships, stated once: the two services (package, binary, image, port) and
//! the chart with its values profiles. Every command that builds, deploys, lints or measures
//! them reads this module instead of repeating a name.

use std::path::PathBuf;

use crate::project;

/// One service image.
#[derive(Debug)]
pub struct Service {
    /// The Cargo package.
    pub package: &'static str,
    /// The binary, also the Dockerfile's target stage.
    pub binary: &'static str,
    /// The image name (without registry or tag).
    pub image: &'static str,
    pub description: &'static str,
    pub port: u16,
    /// The backend keeps its SQLite database in the `/data` volume.
    pub data_volume: bool,
}

pub const SERVICES: [Service; 2] = [
    Service {
        package: "todo-backend",
        binary: "backend",
        image: "todo-chatbot-backend",
        description: "Todo Chatbot API: tasks, accounts, chat agent and MCP tools",
        port: 8000,
        data_volume: true,
    },
    Service {
        package: "todo-frontend",
        binary: "frontend",
        image: "todo-chatbot-frontend",
        description: "Todo Chatbot web UI and API proxy",
        port: 3000,
        data_volume: false,
    },
];

/// The backend's entry in [`SERVICES`].
pub fn backend() -> &'static Service {
    &SERVICES[0]
}

/// The frontend's entry in [`SERVICES`].
pub fn frontend() -> &'static Service {
    &SERVICES[1]
}

/// The profile for one-node clusters (Minikube, kind, the lab): SQLite, the UI on a NodePort.
pub const MINIKUBE_PROFILE: &str = "values-minikube.yaml";
/// The profile for production clusters: external PostgreSQL, replicas, autoscaling, monitoring.
pub const PRODUCTION_PROFILE: &str = "values-production.yaml";
/// Every values profile, each rendered on its own (`None`: the chart's defaults alone).
pub const PROFILES: [Option<&str>; 3] = [None, Some(MINIKUBE_PROFILE), Some(PRODUCTION_PROFILE)];

/// `deploy/helm/todo-chatbot`.
pub fn chart_dir() -> PathBuf {
    project::deploy_dir().join("helm").join("todo-chatbot")
}
