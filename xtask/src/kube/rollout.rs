//! Waiting for a release's Deployments to finish rolling out, with a line per Deployment that
//! shows ready/desired as it moves, and the reason a pod is stuck the moment it appears.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use anyhow::{Context, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use k8s_openapi::api::{apps::v1::Deployment, batch::v1::Job, core::v1::Pod};
use kube::{
    Api, Client,
    api::{ListParams, LogParams},
};
// Tokio's clock, so the tests run the waits on a paused clock.
use tokio::time::Instant;

use super::{diagnose, events};

/// The wait's clock.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Give up after this long.
    pub timeout: Duration,
    /// How long a problem that waiting does not cure (an image that cannot be pulled, a
    /// missing Secret, a crash loop) may last before the rollout is declared failed.
    pub persistent_grace: Duration,
    /// A problem is reported once it has lasted this long: a claim that waits a second for its
    /// volume, or a pull that retries once, is no news.
    pub report_after: Duration,
    pub poll: Duration,
}

impl Timing {
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            persistent_grace: Duration::from_secs(20),
            report_after: Duration::from_secs(3),
            poll: Duration::from_secs(1),
        }
    }
}

/// Where one Deployment's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub name: String,
    pub desired: i32,
    /// Pods of every revision (old ones still terminating count here).
    pub total: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// The controller has seen the latest spec.
    pub observed: bool,
}

impl Rollout {
    pub fn of(deployment: &Deployment) -> Self {
        let status = deployment.status.clone().unwrap_or_default();
        let generation = deployment.metadata.generation.unwrap_or_default();
        Self {
            name: deployment.metadata.name.clone().unwrap_or_default(),
            desired: deployment
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1),
            total: status.replicas.unwrap_or_default(),
            updated: status.updated_replicas.unwrap_or_default(),
            ready: status.ready_replicas.unwrap_or_default(),
            available: status.available_replicas.unwrap_or_default(),
            observed: status.observed_generation.unwrap_or_default() >= generation,
        }
    }

    /// Done: the latest spec is observed, every desired pod runs it and is available, and no
    /// pod of an older revision is left.
    pub fn is_done(&self) -> bool {
        self.observed
            && self.updated == self.desired
            && self.available == self.desired
            && self.total == self.desired
    }

    pub fn line(&self) -> String {
        let state = if self.is_done() {
            "rolled out".to_owned()
        } else if !self.observed {
            "waiting for the controller".to_owned()
        } else if self.total > self.updated {
            format!("{} old pod(s) still terminating", self.total - self.updated)
        } else {
            "rolling out".to_owned()
        };
        format!(
            "{}/{} ready, {} updated, {} available: {state}",
            self.ready, self.desired, self.updated, self.available
        )
    }
}

/// The label selector of everything a release installed.
pub fn release_selector(release: &str) -> String {
    format!("app.kubernetes.io/instance={release}")
}

/// Waits until every Deployment of `release` in `namespace` has rolled out, within `timeout`.
/// Prints each pod problem once as it appears (a crash loop with the container's last log
/// lines); fails early on a problem that waiting does not cure, and on timeout with the
/// namespace's recent warning events.
pub async fn wait(
    client: &Client,
    namespace: &str,
    release: &str,
    timing: Timing,
) -> anyhow::Result<()> {
    let Timing {
        timeout,
        persistent_grace,
        report_after,
        poll,
    } = timing;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = ListParams::default().labels(&release_selector(release));
    let started = Instant::now();
    let display = MultiProgress::new();
    let mut bars: BTreeMap<String, (ProgressBar, String)> = BTreeMap::new();
    let mut first_seen: HashMap<String, Instant> = HashMap::new();
    let mut reported: HashSet<String> = HashSet::new();

    loop {
        let listed = deployments
            .list(&selector)
            .await
            .with_context(|| format!("listing the Deployments of {release} in {namespace}"))?;
        if listed.items.is_empty() {
            bail!(
                "release {release} has no Deployments in namespace {namespace}: was it installed \
                 there (`cargo xtask status`)?"
            );
        }
        let rollouts: Vec<Rollout> = listed.items.iter().map(Rollout::of).collect();
        for rollout in &rollouts {
            show(&display, &mut bars, rollout);
        }
        if rollouts.iter().all(Rollout::is_done) {
            for (bar, _) in bars.values() {
                bar.finish();
            }
            return Ok(());
        }

        let listed_pods = pods
            .list(&selector)
            .await
            .with_context(|| format!("listing the pods of {release}"))?;
        // A pod on its way out (an old revision's, or a failed one being replaced) is no news.
        let staying = listed_pods
            .items
            .iter()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none());
        for pod in staying {
            for problem in diagnose::pod_problems(pod) {
                let since = *first_seen.entry(problem.key()).or_insert_with(Instant::now);
                if since.elapsed() >= report_after && reported.insert(problem.key()) {
                    say(&display, &format!("  ! {}", problem.explain()));
                    if matches!(problem.kind, diagnose::ProblemKind::CrashLoop { .. }) {
                        let tail = last_log_lines(&pods, &problem.pod, 15).await;
                        say(&display, &tail);
                    }
                }
                if problem.is_persistent() && since.elapsed() >= persistent_grace {
                    bail!(
                        "the rollout of {release} cannot finish: {}",
                        problem.explain()
                    );
                }
            }
        }

        if started.elapsed() >= timeout {
            let waiting: Vec<String> = rollouts
                .iter()
                .filter(|r| !r.is_done())
                .map(|r| format!("{}: {}", r.name, r.line()))
                .collect();
            let warnings = events::recent_warnings(client, namespace, 10).await;
            bail!(
                "not rolled out within {}s:\n  {}\nrecent warning events in {namespace}:\n{warnings}",
                timeout.as_secs(),
                waiting.join("\n  ")
            );
        }
        tokio::time::sleep(poll).await;
    }
}

/// One line per Deployment: a spinner on a terminal, a printed line per change elsewhere (CI).
fn show(
    display: &MultiProgress,
    bars: &mut BTreeMap<String, (ProgressBar, String)>,
    rollout: &Rollout,
) {
    let line = rollout.line();
    let (bar, last) = bars.entry(rollout.name.clone()).or_insert_with(|| {
        let bar = display.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {prefix:<28} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(rollout.name.clone());
        bar.enable_steady_tick(Duration::from_millis(120));
        (bar, String::new())
    });
    if *last != line {
        bar.set_message(line.clone());
        if display.is_hidden() {
            println!("  {:<28} {line}", rollout.name);
        }
        *last = line;
    }
}

/// Prints above the progress lines (or plainly when they are hidden).
fn say(display: &MultiProgress, text: &str) {
    if display.is_hidden() {
        println!("{text}");
    } else {
        let _ = display.println(text);
    }
}

/// The last lines the pod's first container wrote before its last exit (or now, when it
/// has not exited yet).
pub async fn last_log_lines(pods: &Api<Pod>, pod: &str, lines: i64) -> String {
    for previous in [true, false] {
        let params = LogParams {
            previous,
            tail_lines: Some(lines),
            ..LogParams::default()
        };
        if let Ok(text) = pods.logs(pod, &params).await
            && !text.trim().is_empty()
        {
            let which = if previous {
                "before its last exit"
            } else {
                "so far"
            };
            let body: String = text.lines().map(|l| format!("    | {l}\n")).collect();
            return format!("    last log lines of {pod} {which}:\n{body}");
        }
    }
    format!("    (no log lines from {pod})")
}

/// After a failed `helm upgrade`: the migration hook Job's logs, when that is what failed.
pub async fn explain_failed_hooks(client: &Client, namespace: &str, release: &str) -> String {
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = format!(
        "{},app.kubernetes.io/component=migrations",
        release_selector(release)
    );
    let Ok(listed) = jobs.list(&ListParams::default().labels(&selector)).await else {
        return String::new();
    };
    let mut text = String::new();
    for job in listed.items {
        let failed = job.status.as_ref().and_then(|s| s.failed).unwrap_or(0);
        if failed == 0 {
            continue;
        }
        let name = job.metadata.name.unwrap_or_default();
        text.push_str(&format!(
            "the migration Job {name} failed ({failed} pod(s)):\n"
        ));
        let job_pods = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        if let Some(pod) = job_pods.last().and_then(|p| p.metadata.name.clone()) {
            text.push_str(&last_log_lines(&pods, &pod, 20).await);
        }
    }
    text
}

#[cfg(test)]
mod mocked_api {
    //! [`wait`] against a mocked API server: it answers the lists the wait makes from a script
    //! of states, on a paused clock, so the waits take no real time.
    #![allow(clippy::unwrap_used)]
    use std::sync::{Arc, Mutex};

    use hyper::{Request, Response};
    use kube::client::Body;
    use serde_json::{Value, json};
    use tower_test::mock;

    use super::*;

    fn list(kind: &str, items: Vec<Value>) -> Value {
        json!({"apiVersion": "v1", "kind": format!("{kind}List"), "metadata": {}, "items": items})
    }

    fn deployment(ready: i32) -> Value {
        json!({
            "metadata": {"name": "todo-chatbot-backend", "generation": 2},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1,
                       "readyReplicas": ready, "availableReplicas": ready},
        })
    }

    fn pod(waiting_reason: Option<&str>) -> Value {
        let state = match waiting_reason {
            Some(reason) => json!({"waiting": {"reason": reason, "message": "pull access denied"}}),
            None => json!({"running": {}}),
        };
        json!({
            "metadata": {"name": "todo-chatbot-backend-abc"},
            "status": {"containerStatuses": [{
                "name": "backend", "image": "localhost:5000/todo-chatbot-backend:1",
                "imageID": "", "ready": false, "restartCount": 0, "state": state,
            }]},
        })
    }

    /// Serves every request from `answer(path, call number)`; returns the paths asked for.
    fn serve(
        answer: impl Fn(&str, usize) -> Value + Send + 'static,
    ) -> (Client, Arc<Mutex<Vec<String>>>) {
        let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        tokio::spawn(async move {
            let mut handle = std::pin::pin!(handle);
            while let Some((request, send)) = handle.next_request().await {
                let path = request.uri().path().to_owned();
                let calls = {
                    let mut log = log.lock().unwrap();
                    log.push(request.uri().to_string());
                    log.iter().filter(|p| p.starts_with(&path)).count()
                };
                let body = serde_json::to_vec(&answer(&path, calls)).unwrap();
                send.send_response(Response::new(Body::from(body)));
            }
        });
        (Client::new(service, "default"), asked)
    }

    fn timing(timeout: u64) -> Timing {
        Timing::with_timeout(Duration::from_secs(timeout))
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_ends_when_the_deployment_is_ready_and_asks_by_the_release_label() {
        let (client, asked) = serve(|path, calls| {
            if path.ends_with("/deployments") {
                list(
                    "Deployment",
                    vec![deployment(if calls < 3 { 0 } else { 1 })],
                )
            } else {
                list("Pod", vec![pod(None)])
            }
        });
        wait(&client, "apps", "todo", timing(60)).await.unwrap();
        let asked = asked.lock().unwrap();
        assert!(
            asked[0].starts_with("/apis/apps/v1/namespaces/apps/deployments?")
                && asked[0].contains("labelSelector=app.kubernetes.io%2Finstance%3Dtodo"),
            "{asked:?}"
        );
        assert_eq!(
            asked.iter().filter(|p| p.contains("/deployments")).count(),
            3
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_image_that_cannot_be_pulled_fails_the_wait_after_the_grace_not_the_timeout() {
        let (client, _) = serve(|path, _| {
            if path.ends_with("/deployments") {
                list("Deployment", vec![deployment(0)])
            } else {
                list("Pod", vec![pod(Some("ImagePullBackOff"))])
            }
        });
        let started = Instant::now();
        let err = wait(&client, "apps", "todo", timing(300))
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("cannot pull the image localhost:5000/todo-chatbot-backend:1"),
            "{text}"
        );
        assert!(text.contains("pull access denied"), "{text}");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(20) && waited < Duration::from_secs(30),
            "failed after {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_terminating_pods_problem_is_ignored() {
        let (client, _) = serve(|path, calls| {
            if path.ends_with("/deployments") {
                list(
                    "Deployment",
                    vec![deployment(if calls < 40 { 0 } else { 1 })],
                )
            } else {
                let mut going = pod(Some("ImagePullBackOff"));
                going["metadata"]["deletionTimestamp"] = json!("2026-12-01T00:00:00Z");
                list("Pod", vec![going])
            }
        });
        wait(&client, "apps", "todo", timing(300)).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_rollout_that_never_finishes_times_out_with_the_warning_events() {
        let (client, asked) = serve(|path, _| {
            if path.ends_with("/deployments") {
                list("Deployment", vec![deployment(0)])
            } else if path.ends_with("/events") {
                list(
                    "Event",
                    vec![json!({
                        "metadata": {"name": "e1"},
                        "involvedObject": {"kind": "Pod", "name": "todo-chatbot-backend-abc"},
                        "reason": "FailedMount", "message": "volume not found", "type": "Warning",
                        "lastTimestamp": "2026-12-01T00:00:00Z",
                    })],
                )
            } else {
                list("Pod", vec![pod(None)])
            }
        });
        let err = wait(&client, "apps", "todo", timing(10)).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("not rolled out within 10s"), "{text}");
        assert!(text.contains("todo-chatbot-backend: 0/1 ready"), "{text}");
        assert!(
            text.contains("Pod/todo-chatbot-backend-abc: FailedMount volume not found"),
            "{text}"
        );
        assert!(
            asked
                .lock()
                .unwrap()
                .iter()
                .any(|p| p.contains("fieldSelector=type%3DWarning"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_release_without_deployments_is_an_error_that_says_where_it_looked() {
        let (client, _) = serve(|_, _| list("Deployment", Vec::new()));
        let err = wait(&client, "apps", "todo", timing(60)).await.unwrap_err();
        assert!(format!("{err:#}").contains("release todo has no Deployments in namespace apps"));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn deployment(generation: i64, replicas: i32, status: serde_json::Value) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "todo-backend", "generation": generation},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn done_needs_every_desired_pod_updated_and_available_and_no_old_pod() {
        let done = deployment(
            3,
            2,
            serde_json::json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
                                "readyReplicas": 2, "availableReplicas": 2}),
        );
        assert!(Rollout::of(&done).is_done());
        assert_eq!(
            Rollout::of(&done).line(),
            "2/2 ready, 2 updated, 2 available: rolled out"
        );

        let old_pod_left = deployment(
            3,
            2,
            serde_json::json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2,
                                "readyReplicas": 3, "availableReplicas": 2}),
        );
        assert!(!Rollout::of(&old_pod_left).is_done());
        assert!(Rollout::of(&old_pod_left).line().contains("1 old pod(s)"));

        let not_available = deployment(
            3,
            2,
            serde_json::json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
                                "readyReplicas": 2, "availableReplicas": 1}),
        );
        assert!(!Rollout::of(&not_available).is_done());
    }

    #[test]
    fn a_spec_the_controller_has_not_seen_is_not_done_even_if_the_counts_match() {
        // Right after `helm upgrade`: the counts still describe the previous revision.
        let stale = deployment(
            4,
            1,
            serde_json::json!({"observedGeneration": 3, "replicas": 1, "updatedReplicas": 1,
                                "readyReplicas": 1, "availableReplicas": 1}),
        );
        let rollout = Rollout::of(&stale);
        assert!(!rollout.is_done());
        assert!(rollout.line().contains("waiting for the controller"));
    }

    #[test]
    fn a_deployment_without_status_is_not_done_and_defaults_to_one_replica() {
        let fresh: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x", "generation": 1},
            "spec": {"selector": {}, "template": {}},
        }))
        .unwrap();
        let rollout = Rollout::of(&fresh);
        assert_eq!(rollout.desired, 1);
        assert!(!rollout.is_done());
    }
}
