//! Why a pod is not becoming ready, read from its status, each reason with the fix a user can
//! apply. Pure functions of the API objects, so they are tested on recorded objects.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// One thing that keeps a pod from becoming ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pod: String,
    /// The container concerned; `None` for pod-level problems (scheduling).
    pub container: Option<String>,
    pub kind: ProblemKind,
    /// The API's own message.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// ErrImagePull, ImagePullBackOff, InvalidImageName.
    ImagePull { image: String },
    /// The container keeps exiting; its last log lines explain why.
    CrashLoop { restarts: i32 },
    /// CreateContainerConfigError: a Secret or ConfigMap (or one of its keys) is missing.
    ConfigError,
    /// The scheduler cannot place the pod (resources, volume claims, node selectors).
    Unschedulable,
}

impl Problem {
    /// A stable key, so a problem is reported once however often it is seen.
    pub fn key(&self) -> String {
        format!("{}/{:?}/{:?}", self.pod, self.container, self.kind)
    }

    /// Problems that do not go away by waiting: the rollout fails once they have lasted a while.
    pub fn is_persistent(&self) -> bool {
        match self.kind {
            ProblemKind::ImagePull { .. } | ProblemKind::ConfigError => true,
            ProblemKind::CrashLoop { restarts } => restarts >= 3,
            ProblemKind::Unschedulable => false,
        }
    }

    /// What the user reads: the problem, the API's message, and the fix.
    pub fn explain(&self) -> String {
        let what = match &self.container {
            Some(container) => format!("pod {} (container {container})", self.pod),
            None => format!("pod {}", self.pod),
        };
        let (headline, fix) = match &self.kind {
            ProblemKind::ImagePull { image } => (
                format!("cannot pull the image {image}"),
                format!(
                    "the node looked for it at {}. Push it there (`cargo xtask up --target kube \
                     --registry HOST:PORT` builds and pushes both images), or build it into the \
                     cluster's own engine (`cargo xtask up --target minikube`; kind: `kind load \
                     docker-image`)",
                    registry_of(image)
                ),
            ),
            ProblemKind::CrashLoop { restarts } => (
                format!("keeps exiting ({restarts} restarts)"),
                "its last log lines (below) say why; `cargo xtask logs` shows more".to_owned(),
            ),
            ProblemKind::ConfigError => (
                "cannot be configured".to_owned(),
                "create the missing Secret or key named above (docs/kubernetes.md lists what \
                 each profile needs), or unset secrets.existingSecret to let the chart create it"
                    .to_owned(),
            ),
            ProblemKind::Unschedulable => (
                "cannot be scheduled".to_owned(),
                "free or add capacity (Minikube: `minikube start --cpus 2 --memory 4096`), or \
                 lower the requests in backend.resources / frontend.resources; a claim that \
                 stays Pending needs a default StorageClass"
                    .to_owned(),
            ),
        };
        format!("{what} {headline}: {}\n    fix: {fix}", self.message.trim())
    }
}

/// The registry an image reference points at (Docker Hub when it names none).
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_owned()
        }
        _ => "docker.io (no registry in the name; is image.registry set?)".to_owned(),
    }
}

/// Everything that keeps `pod` from becoming ready, as far as its status tells.
pub fn pod_problems(pod: &Pod) -> Vec<Problem> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for condition in status.conditions.iter().flatten() {
        if condition.type_ == "PodScheduled"
            && condition.status == "False"
            && condition.reason.as_deref() == Some("Unschedulable")
        {
            problems.push(Problem {
                pod: name.clone(),
                container: None,
                kind: ProblemKind::Unschedulable,
                message: condition.message.clone().unwrap_or_default(),
            });
        }
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for container in containers {
        if let Some(problem) = container_problem(&name, container) {
            problems.push(problem);
        }
    }
    problems
}

fn container_problem(pod: &str, container: &ContainerStatus) -> Option<Problem> {
    let waiting = container.state.as_ref()?.waiting.as_ref()?;
    let reason = waiting.reason.as_deref().unwrap_or_default();
    let kind = match reason {
        "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" | "ErrImageNeverPull" => {
            ProblemKind::ImagePull {
                image: container.image.clone(),
            }
        }
        "CrashLoopBackOff" => ProblemKind::CrashLoop {
            restarts: container.restart_count,
        },
        "CreateContainerConfigError" => ProblemKind::ConfigError,
        _ => return None,
    };
    Some(Problem {
        pod: pod.to_owned(),
        container: Some(container.name.clone()),
        kind,
        message: waiting.message.clone().unwrap_or_else(|| reason.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "todo-backend-7d9f-abcde"},
            "status": status,
        }))
        .unwrap()
    }

    fn waiting(reason: &str, message: &str, image: &str, restarts: i32) -> serde_json::Value {
        serde_json::json!({"containerStatuses": [{
            "name": "backend", "image": image, "imageID": "", "ready": false,
            "restartCount": restarts,
            "state": {"waiting": {"reason": reason, "message": message}},
        }]})
    }

    #[test]
    fn an_image_that_cannot_be_pulled_names_the_image_and_its_registry() {
        let image = "localhost:5000/todo-chatbot-backend:abc1234";
        let problems = pod_problems(&pod(waiting(
            "ImagePullBackOff",
            "Back-off pulling image",
            image,
            0,
        )));
        assert_eq!(problems.len(), 1);
        let problem = &problems[0];
        assert_eq!(
            problem.kind,
            ProblemKind::ImagePull {
                image: image.into()
            }
        );
        assert!(problem.is_persistent());
        let text = problem.explain();
        assert!(text.contains(image), "{text}");
        assert!(text.contains("looked for it at localhost:5000"), "{text}");
        assert!(text.contains("--registry"), "{text}");
    }

    #[test]
    fn an_image_without_a_registry_is_looked_for_on_docker_hub() {
        assert!(registry_of("todo-chatbot-backend:1").starts_with("docker.io"));
        assert_eq!(registry_of("ghcr.io/acme/todo:1"), "ghcr.io");
        assert_eq!(registry_of("localhost/todo:1"), "localhost");
    }

    #[test]
    fn a_crash_loop_becomes_persistent_after_three_restarts() {
        let first = pod_problems(&pod(waiting("CrashLoopBackOff", "back-off", "x:1", 1)));
        assert_eq!(first[0].kind, ProblemKind::CrashLoop { restarts: 1 });
        assert!(!first[0].is_persistent());
        let third = pod_problems(&pod(waiting("CrashLoopBackOff", "back-off", "x:1", 3)));
        assert!(third[0].is_persistent());
        assert!(third[0].explain().contains("3 restarts"));
    }

    #[test]
    fn a_missing_secret_is_a_config_error_with_the_apis_message() {
        let message = "secret \"todo-chatbot-secrets\" not found";
        let problems = pod_problems(&pod(waiting(
            "CreateContainerConfigError",
            message,
            "x:1",
            0,
        )));
        assert_eq!(problems[0].kind, ProblemKind::ConfigError);
        assert!(problems[0].explain().contains(message));
    }

    #[test]
    fn an_unschedulable_pod_quotes_the_scheduler() {
        let message = "0/1 nodes are available: 1 Insufficient memory.";
        let problems = pod_problems(&pod(serde_json::json!({"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
        }]})));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::Unschedulable);
        assert!(problems[0].container.is_none());
        assert!(problems[0].explain().contains(message));
        assert!(!problems[0].is_persistent());
    }

    #[test]
    fn a_starting_or_running_pod_has_no_problem() {
        let creating = waiting("ContainerCreating", "", "x:1", 0);
        assert!(pod_problems(&pod(creating)).is_empty());
        let running = serde_json::json!({"containerStatuses": [{
            "name": "backend", "image": "x:1", "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-12-01T00:00:00Z"}},
        }]});
        assert!(pod_problems(&pod(running)).is_empty());
        assert!(
            pod_problems(&serde_json::from_value(serde_json::json!({"metadata": {}})).unwrap())
                .is_empty()
        );
    }
}
