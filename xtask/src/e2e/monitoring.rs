//! `test-e2e --monitoring`: the stack's own Prometheus, Alertmanager and dashboard (a stack of
//! `up --target docker --monitoring --postgres`), proved from the outside.
//!
//! 1. Prometheus is restarted empty: it is ready, has loaded every rule group of the chart, and
//!    scrapes every target `up` within 30 s; a task created then is visible within 30 s.
//! 2. After a minute of mixed traffic (REST and chat), every panel of the dashboard has data
//!    (each asked of Prometheus's API), and the frontend's `/ops/dashboard` draws every panel.
//! 3. The backend is stopped: `TodoChatbotServiceDown` goes pending within 15 s (a scrape, an
//!    evaluation, the poll) and fires within its `for:` plus 15 s of that, reaches Alertmanager,
//!    and resolves once the backend is back; `TodoChatbotBackendUnreachable` fires too.
//! 4. The database is stopped under traffic: `TodoChatbotDatabaseUnreachable` and the backend's
//!    `TodoChatbotHighErrorRatio` fire, each within its `for:` plus 15 s of going pending (the
//!    ratio goes pending once errors make up 5 % of the last 5 minutes' requests).
//!
//! Each alert's times to pending and to firing are reported.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::Method;
use serde_json::{Value, json};
use todo_config::dashboard;

use super::{
    client::{Stack, User},
    operate::Operator,
    traffic::{Traffic, Workload},
};
use crate::{
    monitoring::{
        self, SCRAPE_INTERVAL_SECONDS,
        api::{Prometheus, alertmanager_alerts},
        rules::ChartRules,
    },
    poll,
    runtime::block_on,
    up::state::Stack as Recorded,
};

/// SC-004: targets up, and new metrics visible, within this long.
const VISIBLE_WITHIN: Duration = Duration::from_secs(30);
/// The mixed traffic before the panels are checked.
const TRAFFIC_FOR: Duration = Duration::from_secs(60);
/// How long an alert may take beyond its `for:`: a scrape to see the failure, an evaluation
/// to make it pending, and one more for this test's poll.
const FIRE_SLACK: Duration = Duration::from_secs(3 * SCRAPE_INTERVAL_SECONDS);
/// How long the error ratio may take to go pending: its rate spans 5 minutes, so the errors
/// must first make up the threshold's share of the last 5 minutes' requests (the slower the
/// failing requests, the longer).
const RATIO_PENDING_WITHIN: Duration = Duration::from_secs(300);
/// Users whose requests fail while the database is down.
const ERROR_WORKERS: usize = 6;
/// How long a resolved condition may take to clear its alert.
const RESOLVE_WITHIN: Duration = Duration::from_secs(60);
/// How long Alertmanager may take to show a firing alert (its `group_wait` is 5 s).
const ALERTMANAGER_WITHIN: Duration = Duration::from_secs(30);

pub fn run(stack: &Stack, operator: &Operator) -> anyhow::Result<Value> {
    let recorded = Recorded::load()?.context("no stack recorded: run `cargo xtask up` first")?;
    if recorded.target != "docker" {
        bail!(
            "--monitoring runs on the docker target: it stops a container and a database this \
             machine runs. Start the stack with `cargo xtask up --target docker --monitoring \
             --postgres`; on a cluster, `up --monitoring` prints where Prometheus answers"
        );
    }
    let urls = recorded.monitoring.context(
        "the stack runs without Prometheus: start it with `cargo xtask up --target docker \
         --monitoring --postgres`",
    )?;
    // The database outage needs a database this machine can stop: fail before anything runs.
    operator.database()?;
    let sh = xshell::Shell::new().context("starting a shell")?;
    let rules = monitoring::rules::from_chart(&sh)?;
    let prometheus = Prometheus::new(&urls.prometheus)?;
    let probe = block_on(stack.sign_up("monitoring-probe"))??;
    let mut report = json!({});

    report["start"] = fresh_start(stack, operator, &prometheus, &rules)?;
    report["panels"] = panels_after_traffic(stack, &prometheus, &rules)?;
    let phase = Phase {
        stack,
        operator,
        prometheus: &prometheus,
        rules: &rules,
        urls: &urls,
        probe: &probe,
    };
    report["backend_down"] = phase.backend_down()?;
    report["database_down"] = phase.database_down()?;
    Ok(report)
}

/// Restarts Prometheus empty; times its readiness, the rule groups, the targets and the first
/// sample of a new task.
fn fresh_start(
    stack: &Stack,
    operator: &Operator,
    prometheus: &Prometheus,
    rules: &ChartRules,
) -> anyhow::Result<Value> {
    operator.restart_prometheus()?;
    let restarted = Instant::now();
    block_on(async {
        poll::until(VISIBLE_WITHIN, "Prometheus to answer /-/ready", || async {
            Ok(prometheus.is_ready().await.then_some(()))
        })
        .await
    })??;
    let ready = restarted.elapsed();

    let loaded = block_on(prometheus.rule_groups())??;
    let wanted = rules.group_names();
    let loaded_names: Vec<&str> = loaded.iter().map(|(name, _)| name.as_str()).collect();
    ensure!(
        wanted.iter().all(|w| loaded_names.contains(&w.as_str())) && loaded.len() == wanted.len(),
        "Prometheus loaded the rule groups {loaded_names:?}, the chart has {wanted:?}"
    );
    let rule_count: usize = loaded.iter().map(|(_, n)| n).sum();
    ensure!(
        rule_count == rules.alerts().len(),
        "Prometheus loaded {rule_count} rules, the chart defines {} alerts",
        rules.alerts().len()
    );

    let targets_up = block_on(async {
        poll::until(
            VISIBLE_WITHIN.saturating_sub(restarted.elapsed()),
            "every target to be up",
            || async {
                let targets = prometheus.targets().await?;
                let jobs: Vec<&str> = targets.iter().map(|t| t.job.as_str()).collect();
                let expected = [rules.backend_job.as_str(), rules.frontend_job.as_str()];
                Ok((expected.iter().all(|j| jobs.contains(j))
                    && targets.iter().all(|t| t.health == "up"))
                .then_some(()))
            },
        )
        .await
    })?;
    if let Err(err) = targets_up {
        let targets = block_on(prometheus.targets())??;
        let states: Vec<String> = targets
            .iter()
            .map(|t| format!("{} {} {}", t.job, t.health, t.last_error))
            .collect();
        return Err(err.context(format!("targets: {states:?}")));
    }
    let all_up = restarted.elapsed();

    // SC-004: the metrics of new traffic are visible within 30 s.
    let created = format!(
        "sum(todo_tasks_created_total{{namespace=\"{}\"}})",
        rules.namespace
    );
    let before = block_on(scalar(prometheus, &created))??.unwrap_or(0.0);
    let user = block_on(stack.sign_up("monitoring-visible"))??;
    block_on(stack.user_call(
        &user,
        Method::POST,
        "tasks",
        Some(json!({"title": "seen by Prometheus"})),
    ))??
    .expect(201)?;
    let sent = Instant::now();
    block_on(async {
        poll::until(
            VISIBLE_WITHIN,
            "the new task to show in todo_tasks_created_total",
            || async {
                Ok(scalar(prometheus, &created)
                    .await?
                    .filter(|now| *now > before)
                    .map(|_| ()))
            },
        )
        .await
    })??;
    let visible = sent.elapsed();
    println!(
        "      Prometheus restarted: ready in {:.1}s, {} rule groups ({rule_count} rules) loaded, \
         every target up {:.1}s after the restart; a new task visible after {:.1}s",
        ready.as_secs_f64(),
        loaded.len(),
        all_up.as_secs_f64(),
        visible.as_secs_f64()
    );
    Ok(json!({
        "ready_seconds": ready.as_secs_f64(),
        "rule_groups": loaded_names,
        "rules": rule_count,
        "targets_up_seconds": all_up.as_secs_f64(),
        "new_metric_visible_seconds": visible.as_secs_f64(),
    }))
}

/// A minute of REST and chat traffic, then every panel's queries through Prometheus's API and
/// the dashboard page.
fn panels_after_traffic(
    stack: &Stack,
    prometheus: &Prometheus,
    rules: &ChartRules,
) -> anyhow::Result<Value> {
    let tally = block_on(async {
        let traffic = Traffic::start_with(stack, 2, Workload::Steady, TRAFFIC_FOR).await?;
        let chatted = chat_for(stack, TRAFFIC_FOR).await;
        let tally = traffic.stop().await?;
        anyhow::Ok((tally, chatted?))
    })??;
    let (tally, turns) = tally;
    println!(
        "      a minute of traffic: {}; {turns} chat turns",
        tally.summary()
    );
    ensure!(
        tally.failed() == 0,
        "the traffic met failures: {}",
        tally.summary()
    );

    let panels = dashboard::panels().map_err(anyhow::Error::msg)?;
    let mut empty = Vec::new();
    let mut series = serde_json::Map::new();
    for panel in panels {
        let mut found = 0;
        for query in &panel.queries {
            let promql = dashboard::promql(&query.expr, &rules.namespace);
            found += block_on(prometheus.query(&promql))??.len();
        }
        if found == 0 {
            empty.push(panel.title.clone());
        }
        series.insert(panel.title.clone(), json!(found));
    }
    ensure!(
        empty.is_empty(),
        "{} of {} panels have no data: {empty:?}",
        empty.len(),
        panels.len()
    );

    let page = block_on(dashboard_page(stack))??;
    let drawn = page.matches("data-state=\"data\"").count();
    ensure!(
        drawn == panels.len(),
        "/ops/dashboard drew {drawn} of {} panels with data (empty: {}, failed: {})",
        panels.len(),
        page.matches("data-state=\"empty\"").count(),
        page.matches("data-state=\"error\"").count()
    );
    let screenshot = super::screenshot::take(&stack.url("/ops/dashboard"), "dashboard.png");
    let screenshot = match screenshot {
        Ok(path) => {
            println!("      dashboard screenshot: {}", path.display());
            json!(path)
        }
        Err(err) => {
            if crate::project::in_ci() {
                return Err(err.context("taking the dashboard's screenshot"));
            }
            println!("      no dashboard screenshot: {err:#}");
            Value::Null
        }
    };
    println!(
        "      every one of the {} panels has data, in Prometheus and on /ops/dashboard",
        panels.len()
    );
    Ok(
        json!({"series_by_panel": series, "requests": tally.requests, "chat_turns": turns, "screenshot": screenshot}),
    )
}

/// Chat turns that add, list and complete tasks, until `duration` has passed.
async fn chat_for(stack: &Stack, duration: Duration) -> anyhow::Result<u64> {
    let user: User = stack.sign_up("monitoring-chat").await?;
    let started = Instant::now();
    let mut turns = 0;
    let mut round = 0;
    while started.elapsed() < duration {
        round += 1;
        stack
            .chat(&user, &format!("Add a task to water plant {round}"), None)
            .await?;
        let newest = stack.tasks(&user, "?sort=created&order=desc").await?;
        let id = newest
            .first()
            .and_then(|t| t["id"].as_i64())
            .context("the chat's task is not in the list")?;
        stack
            .chat(&user, &format!("Mark task {id} as complete"), None)
            .await?;
        stack.chat(&user, "Show me all my tasks", None).await?;
        turns += 3;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(turns)
}

async fn dashboard_page(stack: &Stack) -> anyhow::Result<String> {
    let url = stack.url("/ops/dashboard");
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response.text().await.context("reading the dashboard")?;
    ensure!(status == 200, "GET {url} answered {status}: {text}");
    Ok(text)
}

/// What the failure phases act on and read.
struct Phase<'a> {
    stack: &'a Stack,
    operator: &'a Operator,
    prometheus: &'a Prometheus,
    rules: &'a ChartRules,
    urls: &'a monitoring::Urls,
    /// A user whose task list shows whether the stack serves again.
    probe: &'a User,
}

impl Phase<'_> {
    /// The backend stopped: its ServiceDown alert fires, reaches Alertmanager and resolves.
    fn backend_down(&self) -> anyhow::Result<Value> {
        let Self {
            stack,
            operator,
            prometheus,
            rules,
            urls,
            probe,
        } = *self;
        let down = "TodoChatbotServiceDown";
        let unreachable = "TodoChatbotBackendUnreachable";
        operator.stop_backend()?;
        let stopped = Instant::now();
        let outcome = (|| {
            let fired = time_to_fire(
                prometheus,
                rules,
                down,
                &rules.backend_job,
                stopped,
                FIRE_SLACK,
            )?;
            wait_alertmanager(urls, down)?;
            // The frontend's `backend_up` moves at its health checks (every 10 s on docker).
            let unreachable_fired = time_to_fire(
                prometheus,
                rules,
                unreachable,
                &rules.frontend_job,
                stopped,
                VISIBLE_WITHIN,
            )?;
            anyhow::Ok((fired, unreachable_fired))
        })();
        operator.start_backend()?;
        let returned = Instant::now();
        let (fired, unreachable_fired) = outcome?;
        let resolved = wait_resolved(prometheus, down, &rules.backend_job, RESOLVE_WITHIN)?;
        let resolve_seconds = resolved.duration_since(returned).as_secs_f64();
        // The stack serves again before the next phase.
        super::modes::wait_serving(stack, probe, super::modes::RECOVERY_BOUND)
            .context("the stack did not serve again")?;
        println!(
            "      backend stopped: {down} {fired}, in Alertmanager; {unreachable} {unreachable_fired}; \
             resolved {resolve_seconds:.1}s after the backend returned"
        );
        Ok(json!({
            "service_down": fired.to_json(),
            "backend_unreachable": unreachable_fired.to_json(),
            "service_down_resolved_after_seconds": resolve_seconds,
        }))
    }

    /// The database stopped under traffic: the backend's errors fire the database and error-ratio
    /// alerts.
    fn database_down(&self) -> anyhow::Result<Value> {
        let Self {
            stack,
            operator,
            prometheus,
            rules,
            urls,
            probe,
        } = *self;
        let database = operator.database()?;
        let unreachable = "TodoChatbotDatabaseUnreachable";
        let ratio = "TodoChatbotHighErrorRatio";
        let traffic = block_on(Traffic::start(stack, ERROR_WORKERS))??;
        database.stop()?;
        let stopped = Instant::now();
        let outcome = (|| {
            let unreachable_fired = time_to_fire(
                prometheus,
                rules,
                unreachable,
                &rules.backend_job,
                stopped,
                VISIBLE_WITHIN,
            )?;
            let ratio_fired = time_to_fire(
                prometheus,
                rules,
                ratio,
                &rules.backend_job,
                stopped,
                RATIO_PENDING_WITHIN,
            )?;
            wait_alertmanager(urls, ratio)?;
            anyhow::Ok((unreachable_fired, ratio_fired))
        })();
        let restarted = database.start();
        let tally = block_on(traffic.stop())??;
        restarted.context("starting the database again")?;
        let (unreachable_fired, ratio_fired) = outcome?;
        super::modes::wait_serving(stack, probe, super::modes::RECOVERY_BOUND)
            .context("the stack did not serve again")?;
        println!(
            "      database stopped: {unreachable} {unreachable_fired}; {ratio} {ratio_fired}, in \
             Alertmanager; traffic: {}",
            tally.summary()
        );
        Ok(json!({
            "database_unreachable": unreachable_fired.to_json(),
            "high_error_ratio": ratio_fired.to_json(),
        }))
    }
}

/// When an alert went pending and then firing, counted from the failure that causes it.
#[derive(Debug, Clone, Copy)]
struct Fired {
    hold: Duration,
    pending: Duration,
    firing: Duration,
}

impl Fired {
    fn to_json(self) -> Value {
        json!({
            "for_seconds": self.hold.as_secs(),
            "pending_after_seconds": self.pending.as_secs_f64(),
            "firing_after_seconds": self.firing.as_secs_f64(),
        })
    }
}

impl std::fmt::Display for Fired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pending after {:.1}s, firing after {:.1}s (for: {}s)",
            self.pending.as_secs_f64(),
            self.firing.as_secs_f64(),
            self.hold.as_secs()
        )
    }
}

/// Waits for `alert` on `job` to go pending (within `pending_within` of `since`), then to fire
/// within its `for:` plus [`FIRE_SLACK`] of that. The time it went pending is Prometheus's own
/// (`ALERTS_FOR_STATE`, the alert's `activeAt`), not when this poll saw it.
fn time_to_fire(
    prometheus: &Prometheus,
    rules: &ChartRules,
    alert: &str,
    job: &str,
    since: Instant,
    pending_within: Duration,
) -> anyhow::Result<Fired> {
    let hold = hold_of(rules, alert)?;
    let pending = wait_alert(
        prometheus,
        alert,
        job,
        &["pending", "firing"],
        pending_within.saturating_sub(since.elapsed()),
    )?;
    let firing = wait_alert(
        prometheus,
        alert,
        job,
        &["firing"],
        (hold + FIRE_SLACK).saturating_sub(pending.elapsed()),
    )?;
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|now| now.as_secs_f64() - since.elapsed().as_secs_f64())
        .unwrap_or_default();
    let active_at = block_on(scalar(
        prometheus,
        &format!("ALERTS_FOR_STATE{{alertname=\"{alert}\", job=\"{job}\"}}"),
    ))??;
    let pending = match active_at {
        Some(at) => Duration::from_secs_f64((at - since_unix).max(0.0)),
        None => pending.duration_since(since),
    };
    Ok(Fired {
        hold,
        pending,
        firing: firing.duration_since(since),
    })
}

fn hold_of(rules: &ChartRules, alert: &str) -> anyhow::Result<Duration> {
    rules
        .alerts()
        .into_iter()
        .find(|(name, _)| name == alert)
        .map(|(_, hold)| hold)
        .with_context(|| format!("the chart defines no alert {alert}"))
}

/// Waits until `alert` for `job` is in one of `states`; returns when it was seen so.
fn wait_alert(
    prometheus: &Prometheus,
    alert: &str,
    job: &str,
    states: &[&str],
    within: Duration,
) -> anyhow::Result<Instant> {
    let what = format!("{alert} for {job} to be {}", states.join(" or "));
    block_on(async {
        poll::until(within, &what, || async {
            let alerts = prometheus.alerts().await?;
            Ok(alerts
                .iter()
                .any(|a| {
                    a.name == alert && states.contains(&a.state.as_str()) && a.labels["job"] == job
                })
                .then(Instant::now))
        })
        .await
    })?
}

/// Waits until `alert` for `job` is neither pending nor firing.
fn wait_resolved(
    prometheus: &Prometheus,
    alert: &str,
    job: &str,
    within: Duration,
) -> anyhow::Result<Instant> {
    block_on(async {
        poll::until(within, &format!("{alert} for {job} to resolve"), || async {
            let alerts = prometheus.alerts().await?;
            Ok((!alerts
                .iter()
                .any(|a| a.name == alert && a.labels["job"] == job))
            .then(Instant::now))
        })
        .await
    })?
}

fn wait_alertmanager(urls: &monitoring::Urls, alert: &str) -> anyhow::Result<()> {
    let Some(base) = urls.alertmanager.as_deref() else {
        return Ok(());
    };
    block_on(async {
        poll::until(
            ALERTMANAGER_WITHIN,
            &format!("Alertmanager to hold {alert}"),
            || async {
                Ok(alertmanager_alerts(base)
                    .await?
                    .iter()
                    .any(|name| name == alert)
                    .then_some(()))
            },
        )
        .await
    })?
}

/// The single value of an instant query, if it has one.
async fn scalar(prometheus: &Prometheus, promql: &str) -> anyhow::Result<Option<f64>> {
    let result = prometheus.query(promql).await?;
    Ok(result
        .first()
        .and_then(|sample| sample["value"][1].as_str()?.parse().ok()))
}
