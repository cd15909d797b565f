//! The modes of `test-e2e`: what happens to a deployment under steady traffic when it is
//! upgraded (`--rolling`), when a backend dies (`--chaos`), when its database goes away
//! (`--db-outage`), and over time (`--soak`). Each returns its figures for the report, or the
//! reason it failed. The target's part is behind [`Operator`].

use std::{
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    client::{Stack, User},
    operate::{Operator, Rolled},
    traffic::{Tally, Traffic, Workload},
};
use crate::{catalog::SERVICES, runtime::block_on};

/// Workers of the checking traffic (each a user listing and adding tasks without pause).
const WORKERS: usize = 4;
/// How long a killed backend may take to serve again by itself.
pub const RECOVERY_BOUND: Duration = Duration::from_secs(60);
/// The frontend's longest wait on the backend (its proxy deadline) plus a margin: no failed
/// request may take longer than this.
const FAIL_FAST_BOUND: Duration = Duration::from_secs(35);
/// How long the database is kept down in `--db-outage`.
const OUTAGE: Duration = Duration::from_secs(10);
/// How soon after the database returns the stack must serve again.
const DB_RECOVERY_BOUND: Duration = Duration::from_secs(5);
/// The longest outage a one-replica backend may have during an upgrade (Recreate).
const ONE_REPLICA_OUTAGE_BOUND: Duration = Duration::from_secs(60);

/// `--rolling`: every service the target can replace without a gap is replaced with a new
/// version under steady traffic. With two or more backends (or the docker target, which starts
/// the new backend before it stops the old) not one request may fail; a one-replica backend
/// (the SQLite profile on a cluster) is away for a while: the failures must be quick 5xx
/// answers within a bounded window, and what users saw is reported.
pub fn rolling(stack: &Stack, operator: &Operator) -> anyhow::Result<Value> {
    // Several backends, or on docker a PostgreSQL stack (the new backend starts beside the old
    // one); one SQLite backend is replaced as `Recreate` does, with a gap.
    let zero_downtime = match operator {
        Operator::Docker(stack) => stack.database.is_some(),
        _ => operator.backend_instances()? >= 2,
    };
    let mut replaced = Vec::new();
    let mut failures = Vec::new();
    // One window of traffic per service, so an outage is measured against the service that
    // caused it.
    for service in &SERVICES {
        let traffic = block_on(Traffic::start(stack, WORKERS))??;
        sleep(Duration::from_secs(2));
        let started = Instant::now();
        let rolled = operator.roll(service);
        let seconds = started.elapsed().as_secs_f64();
        sleep(Duration::from_secs(2));
        let tally = block_on(traffic.stop())??;
        let rolled = rolled.with_context(|| format!("replacing the {}", service.binary))?;
        match &rolled {
            Rolled::Replaced { instances } => println!(
                "      {} replaced in {seconds:.1}s: {}",
                service.binary,
                instances.join(", ")
            ),
            Rolled::NotWithoutGap(why) => println!("      {} not replaced: {why}", service.binary),
        }
        println!("      traffic meanwhile: {}", tally.summary());
        let kept = block_on(tally.check_acknowledged(stack))??;
        println!("      all {kept} acknowledged writes are there");
        let judged = if zero_downtime || service.binary != "backend" {
            ensure_none_failed(&tally)
        } else {
            one_replica_outage(&tally)
        };
        if let Err(err) = judged {
            failures.push(format!("{}: {err:#}", service.binary));
        }
        replaced.push(match rolled {
            Rolled::Replaced { instances } => json!({
                "service": service.binary, "seconds": seconds, "instances": instances,
                "traffic": tally_json(&tally),
            }),
            Rolled::NotWithoutGap(why) => json!({"service": service.binary, "skipped": why}),
        });
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(json!({"replaced": replaced, "zero_downtime_required": zero_downtime}))
}

fn ensure_none_failed(tally: &Tally) -> anyhow::Result<()> {
    ensure!(
        tally.failed() == 0,
        "requests failed during a rolling upgrade: {:?}",
        tally.failures
    );
    Ok(())
}

/// A single backend replaced with `Recreate` (SQLite): it is away for a while. What users see
/// then, and the bounds it must keep.
fn one_replica_outage(tally: &Tally) -> anyhow::Result<()> {
    let window = tally.failing_for.unwrap_or_default();
    println!(
        "      one backend replica (Recreate): the backend was away for {:.1}s; users kept the \
         page, and their API calls were answered {} until it returned",
        window.as_secs_f64(),
        kinds(tally)
    );
    only_quick_failures(tally, false)?;
    ensure!(
        window <= ONE_REPLICA_OUTAGE_BOUND,
        "the backend was away for {:.1}s, over the {}s bound",
        window.as_secs_f64(),
        ONE_REPLICA_OUTAGE_BOUND.as_secs()
    );
    Ok(())
}

/// The series the dashboard and the alert rules read from each service.
/// On every backend instance.
const BACKEND_SERIES: [&str; 6] = [
    "app_build_info",
    "db_up",
    "db_pool_connections",
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "process_resident_memory_bytes",
];
/// On the instances that served such a request: a counter appears with its first count, so
/// with several replicas these are looked for across them.
const BACKEND_SERIES_WHEN_USED: [&str; 3] = [
    "todo_tasks_created_total",
    "chat_turns_total",
    "chat_turn_duration_seconds_bucket",
];
const FRONTEND_SERIES: [&str; 5] = [
    "app_build_info",
    "backend_up",
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "process_resident_memory_bytes",
];
/// SC-004: metrics visible within 30 s of the traffic that makes them.
const METRICS_WITHIN: Duration = Duration::from_secs(30);

/// `metrics` (after the functional scenarios, where the target can reach the backend): each
/// service's `/metrics` has the series the dashboard and the alert rules use, and the counters
/// move within 30 s of the traffic that should move them (SC-004).
pub fn metrics(stack: &Stack, operator: &Operator) -> anyhow::Result<Value> {
    let user = block_on(stack.sign_up("metrics"))??;
    let backend_before = |name: &str| -> anyhow::Result<f64> {
        Ok(operator
            .backend_metrics()?
            .iter()
            .map(|t| counter(t, name))
            .sum())
    };
    let created_before = backend_before("todo_tasks_created_total")?;
    let turns_before = backend_before("chat_turns_total")?;
    let frontend_before = counter(&block_on(frontend_metrics(stack))??, "http_requests_total");
    for n in 0..3 {
        block_on(stack.user_call(
            &user,
            Method::POST,
            "tasks",
            Some(json!({"title": format!("metered {n}")})),
        ))??
        .expect(201)?;
    }
    block_on(stack.chat(&user, "What's pending?", None))??;
    let sent = Instant::now();
    loop {
        let backends = operator.backend_metrics()?;
        let frontend = block_on(frontend_metrics(stack))??;
        let created: f64 = backends
            .iter()
            .map(|t| counter(t, "todo_tasks_created_total"))
            .sum();
        let turns: f64 = backends
            .iter()
            .map(|t| counter(t, "chat_turns_total"))
            .sum();
        let requests = counter(&frontend, "http_requests_total");
        let moved = created >= created_before + 3.0
            && turns >= turns_before + 1.0
            && requests >= frontend_before + 4.0;
        if moved {
            for text in &backends {
                let missing: Vec<&&str> = BACKEND_SERIES
                    .iter()
                    .filter(|s| !has_series(text, s))
                    .collect();
                ensure!(
                    missing.is_empty(),
                    "the backend's /metrics lacks {missing:?}"
                );
            }
            let missing: Vec<&&str> = BACKEND_SERIES_WHEN_USED
                .iter()
                .filter(|s| !backends.iter().any(|text| has_series(text, s)))
                .collect();
            ensure!(
                missing.is_empty(),
                "no backend instance's /metrics has {missing:?}"
            );
            let missing: Vec<&&str> = FRONTEND_SERIES
                .iter()
                .filter(|s| !has_series(&frontend, s))
                .collect();
            ensure!(
                missing.is_empty(),
                "the frontend's /metrics lacks {missing:?}"
            );
            let seconds = sent.elapsed().as_secs_f64();
            println!(
                "      both services export the dashboard's and the alerts' series; the counters \
                 moved within {seconds:.1}s ({} backend instance(s))",
                backends.len()
            );
            return Ok(
                json!({"counters_moved_within_seconds": seconds, "backend_instances": backends.len()}),
            );
        }
        ensure!(
            sent.elapsed() < METRICS_WITHIN,
            "the counters did not move within {}s: tasks created {created_before} -> {created}, \
             chat turns {turns_before} -> {turns}, frontend requests {frontend_before} -> {requests}",
            METRICS_WITHIN.as_secs()
        );
        sleep(Duration::from_secs(1));
    }
}

async fn frontend_metrics(stack: &Stack) -> anyhow::Result<String> {
    let body = stack
        .call(Method::GET, "/metrics", None, None)
        .await?
        .expect(200)?;
    body.as_str()
        .map(str::to_owned)
        .context("the frontend's /metrics is not text")
}

/// The sample lines of `name` in `text` (Prometheus exposition), and no other series.
fn samples<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    text.lines().filter(move |line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
    })
}

/// Whether `text` has a sample of `name`.
pub fn has_series(text: &str, name: &str) -> bool {
    samples(text, name).next().is_some()
}

/// The sum of every sample of `name` in `text`.
pub fn counter(text: &str, name: &str) -> f64 {
    samples(text, name)
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `--chaos`: a backend is killed with no warning under steady traffic. Requests in flight may
/// fail, but quickly and with a 5xx; the stack serves again by itself within [`RECOVERY_BOUND`];
/// every write it acknowledged is still there.
pub fn chaos(stack: &Stack, operator: &Operator) -> anyhow::Result<Value> {
    let probe = block_on(stack.sign_up("chaos-probe"))??;
    let instances = operator.backend_instances()?;
    let traffic = block_on(Traffic::start(stack, WORKERS))??;
    sleep(Duration::from_secs(3));
    let victim = operator.kill_backend();
    let killed = Instant::now();
    let recovered = victim
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e:#}"))
        .and_then(|_| wait_serving(stack, &probe, RECOVERY_BOUND));
    sleep(Duration::from_secs(3));
    let tally = block_on(traffic.stop())??;
    let victim = victim?;
    println!("      killed {victim}; traffic: {}", tally.summary());
    let recovered = recovered.context("the stack did not serve again by itself")?;
    let recovery = recovered.duration_since(killed);
    println!(
        "      serving again {:.1}s after the kill",
        recovery.as_secs_f64()
    );
    // With several backends the others serve at once: the killed one must come back too.
    let replaced = loop {
        if operator.backend_instances()? >= instances {
            break killed.elapsed();
        }
        ensure!(
            killed.elapsed() < RECOVERY_BOUND,
            "{instances} backend(s) ran before the kill, fewer are ready {}s after it",
            RECOVERY_BOUND.as_secs()
        );
        sleep(Duration::from_millis(500));
    };
    println!(
        "      {instances} backend(s) ready again {:.1}s after the kill",
        replaced.as_secs_f64()
    );
    only_quick_failures(&tally, true)?;
    let kept = block_on(tally.check_acknowledged(stack))??;
    println!("      all {kept} acknowledged writes are there");
    Ok(json!({
        "killed": victim,
        "recovered_seconds": recovery.as_secs_f64(),
        "instances_back_seconds": replaced.as_secs_f64(),
        "recovery_bound_seconds": RECOVERY_BOUND.as_secs(),
        "traffic": tally_json(&tally),
    }))
}

/// `--db-outage`: the stack's PostgreSQL server is stopped for [`OUTAGE`] under steady traffic.
/// The backend's readiness goes to 503, writes fail with 503, no container restarts, and within
/// [`DB_RECOVERY_BOUND`] of the database's return everything serves again; no acknowledged
/// write is lost.
pub fn db_outage(stack: &Stack, operator: &Operator) -> anyhow::Result<Value> {
    let database = operator.database()?;
    let probe = block_on(stack.sign_up("outage-probe"))??;
    let restarts_before = operator.restarts()?;
    let traffic = block_on(Traffic::start(stack, WORKERS))??;
    sleep(Duration::from_secs(2));
    database.stop()?;
    let stopped = Instant::now();
    let outcome = during_outage(stack, operator, &probe, stopped);
    if database.start().is_err() {
        sleep(Duration::from_secs(1));
        database
            .start()
            .context("starting the database again after the outage")?;
    }
    let returned = Instant::now();
    let recovered = wait_serving(stack, &probe, RECOVERY_BOUND);
    sleep(Duration::from_secs(2));
    let tally = block_on(traffic.stop())??;
    println!("      traffic: {}", tally.summary());
    let (readiness, write_status) = outcome?;
    let recovery = recovered?.duration_since(returned);
    println!(
        "      while down: backend /readyz {readiness}, a write {write_status}; serving again \
         {:.1}s after the database returned",
        recovery.as_secs_f64()
    );
    ensure!(
        readiness == 503,
        "the backend's /readyz answered {readiness} while its database was down, not 503"
    );
    ensure!(
        write_status == 503,
        "a write answered {write_status} while the database was down, not 503"
    );
    ensure!(
        recovery <= DB_RECOVERY_BOUND,
        "the stack served again {:.1}s after the database returned, over the {}s bound",
        recovery.as_secs_f64(),
        DB_RECOVERY_BOUND.as_secs()
    );
    let restarts_after = operator.restarts()?;
    ensure!(
        restarts_before == restarts_after,
        "a container restarted during the outage: {restarts_before:?} -> {restarts_after:?}"
    );
    let unexpected: Vec<&String> = tally
        .failures
        .keys()
        .filter(|kind| !kind.ends_with(" 503"))
        .collect();
    ensure!(
        unexpected.is_empty(),
        "failures other than 503 during the outage: {:?}",
        tally.failures
    );
    let kept = block_on(tally.check_acknowledged(stack))??;
    println!("      no restart; all {kept} acknowledged writes are there");
    Ok(json!({
        "outage_seconds": OUTAGE.as_secs(),
        "readiness_while_down": readiness,
        "write_while_down": write_status,
        "recovered_seconds": recovery.as_secs_f64(),
        "traffic": tally_json(&tally),
    }))
}

/// The backend's readiness and a write's status while the database is down; returns once the
/// outage has lasted [`OUTAGE`].
fn during_outage(
    stack: &Stack,
    operator: &Operator,
    probe: &User,
    stopped: Instant,
) -> anyhow::Result<(u16, u16)> {
    sleep(Duration::from_secs(2));
    let readiness = operator.backend_readiness()?;
    let write = block_on(stack.user_call(
        probe,
        Method::POST,
        "tasks",
        Some(json!({"title": "written while the database is down"})),
    ))??;
    sleep(OUTAGE.saturating_sub(stopped.elapsed()));
    Ok((readiness, write.status.as_u16()))
}

/// `--soak D`: steady traffic that keeps the data the same size (add a task, delete it) for
/// `duration`; each instance's memory after a warm-up and at the end. Passes when nothing
/// failed, the traffic kept going, the same instances ran throughout (no restart), and none grew
/// by 5% or more.
pub fn soak(stack: &Stack, operator: &Operator, duration: Duration) -> anyhow::Result<Value> {
    let restarts_before = operator.restarts()?;
    let traffic = block_on(Traffic::start_with(
        stack,
        2,
        Workload::Steady,
        duration + Duration::from_secs(120),
    ))??;
    sleep(Duration::from_secs(20));
    let start = operator.memory();
    let started = Instant::now();
    while started.elapsed() < duration {
        sleep(Duration::from_secs(1));
    }
    let end = operator.memory();
    let tally = block_on(traffic.stop())??;
    let (start, end) = (start?, end?);
    println!("      traffic: {}", tally.summary());
    let restarts_after = operator.restarts()?;
    ensure!(
        restarts_before == restarts_after,
        "a container restarted during the soak: {restarts_before:?} -> {restarts_after:?}"
    );
    let gone: Vec<&String> = start
        .keys()
        .filter(|name| !end.contains_key(*name))
        .collect();
    ensure!(
        gone.is_empty(),
        "instances measured at the start were gone at the end: {gone:?}"
    );
    // Two users, about ten rounds a second each: far fewer requests means the traffic stopped.
    ensure!(
        tally.requests as f64 >= duration.as_secs_f64() * 2.0,
        "only {} requests in {}s: the traffic did not keep going",
        tally.requests,
        duration.as_secs()
    );
    let mut instances = Vec::new();
    let mut grown = Vec::new();
    for (name, before) in &start {
        let Some(after) = end.get(name) else {
            continue;
        };
        let growth = (*after as f64 - *before as f64) / (*before).max(1) as f64 * 100.0;
        println!(
            "      {name}: {:.1} MiB -> {:.1} MiB ({growth:+.1}%)",
            *before as f64 / 1048576.0,
            *after as f64 / 1048576.0
        );
        if growth >= 5.0 {
            grown.push(format!("{name} {growth:+.1}%"));
        }
        instances.push(json!({"instance": name, "start_bytes": before, "end_bytes": after, "growth_percent": growth}));
    }
    ensure!(
        !instances.is_empty(),
        "no instance was measured at both ends: {start:?} / {end:?}"
    );
    ensure!(
        tally.failed() == 0,
        "requests failed during the soak: {:?}",
        tally.failures
    );
    ensure!(
        grown.is_empty(),
        "memory grew by 5% or more: {}",
        grown.join(", ")
    );
    Ok(json!({"seconds": duration.as_secs(), "memory": instances, "traffic": tally_json(&tally)}))
}

/// Waits until three calls in a row list the probe user's tasks; returns when that began.
pub fn wait_serving(stack: &Stack, probe: &User, bound: Duration) -> anyhow::Result<Instant> {
    let started = Instant::now();
    let mut streak: Option<Instant> = None;
    let mut in_a_row = 0;
    while started.elapsed() < bound {
        let ok = block_on(stack.user_call(probe, Method::GET, "tasks", None))?
            .is_ok_and(|answer| answer.status.is_success());
        if ok {
            in_a_row += 1;
            let first = *streak.get_or_insert_with(Instant::now);
            if in_a_row == 3 {
                return Ok(first);
            }
        } else {
            in_a_row = 0;
            streak = None;
        }
        sleep(Duration::from_millis(100));
    }
    bail!("not serving after {}s", bound.as_secs())
}

/// The failures are quick 5xx answers from the frontend (502, 503, 504), never a hang or a
/// The failures are quick 5xx answers from the frontend (502, 503, 504), never a hang; with
/// `in_flight` also a connection that ended without an answer (a request the killed backend
/// was serving), as long as it ended quickly.
fn only_quick_failures(tally: &Tally, in_flight: bool) -> anyhow::Result<()> {
    let other: Vec<&String> = tally
        .failures
        .keys()
        .filter(|kind| {
            !(kind.ends_with(" 502")
                || kind.ends_with(" 503")
                || kind.ends_with(" 504")
                || (in_flight && kind.ends_with(" no answer")))
        })
        .collect();
    ensure!(
        other.is_empty(),
        "failures that were not quick 5xx answers: {:?}",
        tally.failures
    );
    ensure!(
        tally.slowest_failure <= FAIL_FAST_BOUND,
        "a failed request took {:.1}s, beyond the proxy's deadline",
        tally.slowest_failure.as_secs_f64()
    );
    Ok(())
}

fn kinds(tally: &Tally) -> String {
    let mut statuses: Vec<&str> = tally
        .failures
        .keys()
        .filter_map(|k| k.rsplit(' ').next())
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    if statuses.is_empty() {
        "nothing".to_owned()
    } else {
        statuses.join("/")
    }
}

fn tally_json(tally: &Tally) -> Value {
    json!({
        "requests": tally.requests,
        "failed": tally.failed(),
        "failures": tally.failures,
        "failing_seconds": tally.failing_for.map(|d| d.as_secs_f64()),
        "slowest_failure_seconds": tally.slowest_failure.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = "# TYPE chat_turns_total counter\n\
        chat_turns_total{outcome=\"ok\"} 3\n\
        chat_turns_total{outcome=\"error\"} 1\n\
        chat_turns_total_other 9\n\
        db_up 1\n";

    #[test]
    fn counters_sum_every_labelled_sample_of_exactly_that_name() {
        assert_eq!(counter(EXPOSITION, "chat_turns_total"), 4.0);
        assert_eq!(counter(EXPOSITION, "db_up"), 1.0);
        assert_eq!(counter(EXPOSITION, "absent_total"), 0.0);
        assert!(has_series(EXPOSITION, "db_up"));
        assert!(!has_series(EXPOSITION, "chat_turns"));
    }
}
