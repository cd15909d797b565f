//! Steady traffic while something happens to the stack (an upgrade, a restart), counting every
//! request that did not get its expected answer. Bounded: a few workers, until told to stop or
//! until a hard limit of time, whichever comes first.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

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
}

impl Tally {
    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        for (kind, count) in other.failures {
            *self.failures.entry(kind).or_default() += count;
        }
    }
}

/// Running traffic; [`Traffic::stop`] ends it and returns the tally.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    workers: JoinSet<(Tally, Option<(Instant, Instant)>)>,
}

/// The longest any traffic runs, whatever happens to the caller.
const HARD_LIMIT: Duration = Duration::from_secs(600);

impl Traffic {
    /// Starts `workers` users' worth of traffic as the UI makes it: list the tasks, add one,
    /// update it, toggle it complete, with a short pause between calls.
    pub async fn start(stack: &Stack, workers: usize) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        for worker in 0..workers {
            let user = stack.sign_up(&format!("load{worker}")).await?;
            let stack = stack.clone();
            let stop = stop.clone();
            set.spawn(async move { run_worker(&stack, &user, &stop).await });
        }
        Ok(Self { stop, workers: set })
    }

    pub async fn stop(self) -> Tally {
        let Self { stop, mut workers } = self;
        stop.store(true, Ordering::Relaxed);
        let mut tally = Tally::default();
        let mut window: Option<(Instant, Instant)> = None;
        while let Some(Ok((worker_tally, worker_window))) = workers.join_next().await {
            tally.merge(worker_tally);
            if let Some((first, last)) = worker_window {
                window = Some(match window {
                    Some((a, b)) => (a.min(first), b.max(last)),
                    None => (first, last),
                });
            }
        }
        tally.failing_for = window.map(|(first, last)| last - first);
        tally
    }
}

async fn run_worker(
    stack: &Stack,
    user: &User,
    stop: &AtomicBool,
) -> (Tally, Option<(Instant, Instant)>) {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut window: Option<(Instant, Instant)> = None;
    let mut note = |tally: &mut Tally, kind: String| {
        *tally.failures.entry(kind).or_default() += 1;
        let now = Instant::now();
        window = Some(window.map_or((now, now), |(first, _)| (first, now)));
    };
    let mut step = 0u64;
    while !stop.load(Ordering::Relaxed) && started.elapsed() < HARD_LIMIT {
        step += 1;
        let calls: [(Method, String, Option<serde_json::Value>, u16); 2] = [
            (Method::GET, "tasks?status=all".to_owned(), None, 200),
            (
                Method::POST,
                "tasks".to_owned(),
                Some(json!({"title": format!("steady {step}")})),
                201,
            ),
        ];
        for (method, rest, body, want) in calls {
            tally.requests += 1;
            match stack.user_call(user, method.clone(), &rest, body).await {
                Ok(answer) if answer.status.as_u16() == want => {}
                Ok(answer) => note(&mut tally, format!("{method} {}", answer.status.as_u16())),
                Err(_) => note(&mut tally, format!("{method} no answer")),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (tally, window)
}
