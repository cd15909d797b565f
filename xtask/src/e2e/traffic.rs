//! Steady traffic while something happens to the stack (an upgrade, a killed backend, a database
//! outage), counting every request that did not get its expected answer and remembering every
//! write the stack acknowledged, so a scenario can check afterwards that none was lost.
//! Bounded: a few workers, until told to stop or until a hard limit of time.
//!
//! This is a checker, not a load generator: `--load` uses goose (see `load.rs`).

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::ensure;
use reqwest::Method;
use serde_json::json;
use tokio::{task::JoinSet, time::Instant};

use super::client::{Stack, User};

/// What the traffic met.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub requests: u64,
    /// Failures by kind: `GET 502`, `POST no answer`, ...
    pub failures: BTreeMap<String, u64>,
    /// From the first failure to the last one (the length of an outage), if any.
    pub failing_for: Option<Duration>,
    /// The longest time a failed request took to fail (a hang shows here).
    pub slowest_failure: Duration,
    /// The tasks the stack answered 201 for, by user.
    pub acknowledged: Vec<(User, Vec<i64>)>,
}

impl Tally {
    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// One line for the scenario's output: requests, failures by kind, the outage window.
    pub fn summary(&self) -> String {
        format!(
            "{} requests, {} failed{}{}",
            self.requests,
            self.failed(),
            if self.failures.is_empty() {
                String::new()
            } else {
                format!(" {:?}", self.failures)
            },
            self.failing_for
                .map(|d| format!(
                    " over {:.1}s (slowest failure {:.2}s)",
                    d.as_secs_f64(),
                    self.slowest_failure.as_secs_f64()
                ))
                .unwrap_or_default()
        )
    }

    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        for (kind, count) in other.failures {
            *self.failures.entry(kind).or_default() += count;
        }
        self.slowest_failure = self.slowest_failure.max(other.slowest_failure);
        self.acknowledged.extend(other.acknowledged);
    }

    /// Every acknowledged task is still in its owner's list.
    pub async fn check_acknowledged(&self, stack: &Stack) -> anyhow::Result<usize> {
        let mut checked = 0;
        for (user, ids) in &self.acknowledged {
            let listed: Vec<i64> = stack
                .tasks(user, "?status=all")
                .await?
                .iter()
                .filter_map(|t| t["id"].as_i64())
                .collect();
            let lost: Vec<&i64> = ids.iter().filter(|id| !listed.contains(id)).collect();
            ensure!(
                lost.is_empty(),
                "{} acknowledged task(s) of {} are gone: {lost:?}",
                lost.len(),
                user.email
            );
            checked += ids.len();
        }
        Ok(checked)
    }
}

/// What each worker does in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// List the tasks, add one, without pause: every write is remembered and checked after.
    Growing,
    /// List the tasks, add one, delete it, with a short pause: the data stays the same size,
    /// so whatever grows over time is the services' own (`--soak`).
    Steady,
}

/// Running traffic; [`Traffic::stop`] ends it and returns the tally.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    workers: JoinSet<(Tally, Option<(Instant, Instant)>)>,
}

/// The longest traffic runs unless told otherwise, whatever happens to the caller.
const HARD_LIMIT: Duration = Duration::from_secs(900);

impl Traffic {
    /// Starts `workers` users' worth of [`Workload::Growing`] traffic as the UI makes it.
    pub async fn start(stack: &Stack, workers: usize) -> anyhow::Result<Self> {
        Self::start_with(stack, workers, Workload::Growing, HARD_LIMIT).await
    }

    /// Starts `workers` users doing `workload`, each stopping by itself after `limit`.
    pub async fn start_with(
        stack: &Stack,
        workers: usize,
        workload: Workload,
        limit: Duration,
    ) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        for worker in 0..workers {
            let user = stack.sign_up(&format!("steady{worker}")).await?;
            let stack = stack.clone();
            let stop = stop.clone();
            set.spawn(async move { run_worker(&stack, user, &stop, workload, limit).await });
        }
        Ok(Self { stop, workers: set })
    }

    /// Stops the workers and adds up what they met; a worker that panicked is an error (its
    /// share of the tally is lost, so no check may pass on the rest).
    pub async fn stop(self) -> anyhow::Result<Tally> {
        let Self { stop, mut workers } = self;
        stop.store(true, Ordering::Relaxed);
        let mut tally = Tally::default();
        let mut window: Option<(Instant, Instant)> = None;
        let mut lost = 0;
        while let Some(joined) = workers.join_next().await {
            let Ok((worker_tally, worker_window)) = joined else {
                lost += 1;
                continue;
            };
            tally.merge(worker_tally);
            if let Some((first, last)) = worker_window {
                window = Some(match window {
                    Some((a, b)) => (a.min(first), b.max(last)),
                    None => (first, last),
                });
            }
        }
        tally.failing_for = window.map(|(first, last)| last - first);
        ensure!(
            lost == 0,
            "{lost} traffic worker(s) panicked; their requests went uncounted"
        );
        Ok(tally)
    }
}

async fn run_worker(
    stack: &Stack,
    user: User,
    stop: &AtomicBool,
    workload: Workload,
    limit: Duration,
) -> (Tally, Option<(Instant, Instant)>) {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut window: Option<(Instant, Instant)> = None;
    let mut acknowledged = Vec::new();
    let mut step = 0u64;
    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
        step += 1;
        let calls = [
            (Method::GET, "tasks?status=all", None, 200),
            (
                Method::POST,
                "tasks",
                Some(json!({"title": format!("steady {step}")})),
                201,
            ),
        ];
        let mut created = None;
        for (method, rest, body, want) in calls {
            tally.requests += 1;
            let sent = Instant::now();
            let failure = match stack.user_call(&user, method.clone(), rest, body).await {
                Ok(answer) if answer.status.as_u16() == want => {
                    if let Some(id) = answer.body["id"].as_i64().filter(|_| want == 201) {
                        created = Some(id);
                    }
                    None
                }
                Ok(answer) => Some(format!("{method} {}", answer.status.as_u16())),
                Err(_) => Some(format!("{method} no answer")),
            };
            if let Some(kind) = failure {
                *tally.failures.entry(kind).or_default() += 1;
                tally.slowest_failure = tally.slowest_failure.max(sent.elapsed());
                let now = Instant::now();
                window = Some(window.map_or((now, now), |(first, _)| (first, now)));
            }
        }
        match (workload, created) {
            (Workload::Growing, Some(id)) => acknowledged.push(id),
            (Workload::Steady, Some(id)) => {
                tally.requests += 1;
                let path = format!("tasks/{id}");
                let deleted = stack.user_call(&user, Method::DELETE, &path, None).await;
                if !deleted.is_ok_and(|a| a.status.is_success()) {
                    *tally.failures.entry("DELETE".to_owned()).or_default() += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tally.acknowledged.push((user, acknowledged));
    (tally, window)
}
