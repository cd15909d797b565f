//! `test-e2e --load USERS --duration SECONDS`: simulated users, driven by goose. Each signs up,
//! then uses the stack as people use the UI, with think times between actions: mostly reading
//! the task list, adding tasks, completing one, now and then a chat turn. Reports requests/s and
//! p50/p95/p99 per endpoint; passes only without a single error.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use goose::{config::GooseConfiguration, metrics::GooseMetrics, prelude::*};
use serde::Serialize;
use serde_json::json;

/// What a simulated user keeps between actions.
#[derive(Clone)]
struct Session {
    id: String,
    token: String,
    /// Tasks this user added and has not completed yet.
    open_tasks: Vec<i64>,
    turns: u64,
}

/// One endpoint's figures.
#[derive(Debug, Serialize)]
pub struct Endpoint {
    pub name: String,
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// The run's figures.
#[derive(Debug, Serialize)]
pub struct Figures {
    pub users: usize,
    pub seconds: usize,
    pub requests: usize,
    pub requests_per_second: f64,
    pub errors: usize,
    /// Users' actions that failed (a request, or what the action checks of the answer: a
    /// sign-up without a token leaves every later action of that user failing without a
    /// request).
    pub failed_actions: usize,
    pub endpoints: Vec<Endpoint>,
}

impl Figures {
    pub fn print(&self) {
        println!(
            "    {} users for {}s: {} requests, {:.1}/s, {} errors, {} failed actions",
            self.users,
            self.seconds,
            self.requests,
            self.requests_per_second,
            self.errors,
            self.failed_actions
        );
        println!(
            "      {:<42} {:>8} {:>7} {:>9} {:>9} {:>9}",
            "endpoint", "requests", "errors", "p50 ms", "p95 ms", "p99 ms"
        );
        for e in &self.endpoints {
            println!(
                "      {:<42} {:>8} {:>7} {:>9.1} {:>9.1} {:>9.1}",
                e.name, e.requests, e.errors, e.p50_ms, e.p95_ms, e.p99_ms
            );
        }
    }
}

/// Runs `users` simulated users against `base_url` for `duration`, starting them over the
/// first fifth of the run (at most 20 s).
pub async fn run(base_url: &str, users: usize, duration: Duration) -> anyhow::Result<Figures> {
    let seconds = duration.as_secs().max(1);
    let ramp = (seconds / 5).clamp(1, 20);
    let rate = (users as f64 / ramp as f64).max(1.0);
    let mut configuration = GooseConfiguration::default();
    configuration.host = Some(base_url.trim_end_matches('/').to_owned());
    configuration.users = Some(users);
    configuration.increase_rate = Some(format!("{rate}"));
    configuration.run_time = Some(seconds.to_string());
    configuration.no_telnet = true;
    // Count the ramp-up too (goose resets its figures once every user runs, by default): a
    // failed sign-up is an error like any other.
    configuration.no_reset_metrics = true;
    configuration.no_print_metrics = true;
    configuration.quiet = 1;
    configuration.timeout = Some("30".to_owned());
    let attack = GooseAttack::initialize_with_config(configuration)
        .context("configuring the load test")?
        .register_scenario(
            scenario!("ui user")
                .set_wait_time(Duration::from_millis(500), Duration::from_millis(2500))
                .context("setting the think time")?
                .register_transaction(transaction!(sign_up).set_on_start().set_name("sign up"))
                .register_transaction(
                    transaction!(list_tasks)
                        .set_name("list tasks")
                        .set_weight(6)
                        .context("weighting")?,
                )
                .register_transaction(
                    transaction!(add_task)
                        .set_name("add task")
                        .set_weight(3)
                        .context("weighting")?,
                )
                .register_transaction(
                    transaction!(complete_task)
                        .set_name("complete task")
                        .set_weight(1)
                        .context("weighting")?,
                )
                .register_transaction(
                    transaction!(chat_turn)
                        .set_name("chat turn")
                        .set_weight(1)
                        .context("weighting")?,
                ),
        );
    let metrics = attack
        .execute()
        .await
        .map_err(|err| anyhow::anyhow!("the load test failed to run: {err}"))?;
    Ok(figures(&metrics, users))
}

fn figures(metrics: &GooseMetrics, users: usize) -> Figures {
    let mut endpoints: BTreeMap<String, Endpoint> = BTreeMap::new();
    for (name, aggregate) in &metrics.requests {
        let timing = &aggregate.raw_data;
        let ms = |p: f32| timing.percentile_us(p) as f64 / 1000.0;
        endpoints.insert(
            name.clone(),
            Endpoint {
                name: name.clone(),
                requests: aggregate.success_count + aggregate.fail_count,
                errors: aggregate.fail_count,
                p50_ms: ms(0.50),
                p95_ms: ms(0.95),
                p99_ms: ms(0.99),
            },
        );
    }
    let requests = endpoints.values().map(|e| e.requests).sum();
    let errors = endpoints.values().map(|e| e.errors).sum();
    let seconds = metrics.duration.max(1);
    let failed_actions = metrics
        .transactions
        .iter()
        .flatten()
        .map(|t| t.fail_count)
        .sum();
    Figures {
        users,
        seconds,
        requests,
        requests_per_second: requests as f64 / seconds as f64,
        errors,
        failed_actions,
        endpoints: endpoints.into_values().collect(),
    }
}

fn session(user: &GooseUser) -> Result<Session, Box<TransactionError>> {
    user.get_session_data::<Session>()
        .cloned()
        .ok_or_else(|| "the user has not signed up".into())
}

/// Sends `body` to `path` with the user's token; fails the transaction unless `want` came back.
async fn call(
    user: &mut GooseUser,
    method: GooseMethod,
    path: &str,
    name: &'static str,
    body: Option<serde_json::Value>,
    want: u16,
) -> Result<Option<serde_json::Value>, Box<TransactionError>> {
    let mut builder = user.get_request_builder(&method, path)?;
    if let Some(session) = user.get_session_data::<Session>() {
        builder = builder.bearer_auth(&session.token);
    }
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .expect_status_code(want)
        .set_request_builder(builder)
        .build();
    let answer = user.request(request).await?;
    match answer.response {
        Ok(response) if response.status().as_u16() == want => {
            Ok(response.json::<serde_json::Value>().await.ok())
        }
        Ok(response) => Err(format!("{name}: {}", response.status()).into()),
        Err(err) => Err(format!("{name}: {err}").into()),
    }
}

async fn sign_up(user: &mut GooseUser) -> TransactionResult {
    let unique = super::client::unique();
    let body = json!({
        "email": format!("load-{unique}@example.com"),
        "password": format!("pw-{unique}-long-enough"),
        "name": "load",
    });
    let answer = call(
        user,
        GooseMethod::Post,
        "/api/auth/sign-up",
        "/api/auth/sign-up",
        Some(body),
        201,
    )
    .await?
    .ok_or("sign-up answered no JSON")?;
    let id = answer["user"]["id"].as_str().ok_or("sign-up gave no id")?;
    let token = answer["token"].as_str().ok_or("sign-up gave no token")?;
    user.set_session_data(Session {
        id: id.to_owned(),
        token: token.to_owned(),
        open_tasks: Vec::new(),
        turns: 0,
    });
    Ok(())
}

async fn list_tasks(user: &mut GooseUser) -> TransactionResult {
    let s = session(user)?;
    let path = format!("/api/{}/tasks?status=all", s.id);
    call(
        user,
        GooseMethod::Get,
        &path,
        "/api/{user}/tasks",
        None,
        200,
    )
    .await?;
    Ok(())
}

async fn add_task(user: &mut GooseUser) -> TransactionResult {
    let s = session(user)?;
    let path = format!("/api/{}/tasks", s.id);
    let body = json!({"title": "Buy groceries", "description": "milk, eggs, bread"});
    let answer = call(
        user,
        GooseMethod::Post,
        &path,
        "/api/{user}/tasks",
        Some(body),
        201,
    )
    .await?;
    if let Some(id) = answer.and_then(|a| a["id"].as_i64()) {
        let mut s = s;
        s.open_tasks.push(id);
        user.set_session_data(s);
    }
    Ok(())
}

async fn complete_task(user: &mut GooseUser) -> TransactionResult {
    let mut s = session(user)?;
    let Some(task) = s.open_tasks.pop() else {
        return list_tasks(user).await;
    };
    user.set_session_data(s.clone());
    let path = format!("/api/{}/tasks/{task}/complete", s.id);
    call(
        user,
        GooseMethod::Patch,
        &path,
        "/api/{user}/tasks/{id}/complete",
        None,
        200,
    )
    .await?;
    Ok(())
}

async fn chat_turn(user: &mut GooseUser) -> TransactionResult {
    let mut s = session(user)?;
    s.turns += 1;
    user.set_session_data(s.clone());
    let message = if s.turns % 2 == 1 {
        format!("Add a task to call the plumber {}", s.turns)
    } else {
        "What's pending?".to_owned()
    };
    let path = format!("/api/{}/chat", s.id);
    call(
        user,
        GooseMethod::Post,
        &path,
        "/api/{user}/chat",
        Some(json!({"message": message})),
        200,
    )
    .await?;
    Ok(())
}
