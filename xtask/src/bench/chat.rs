//! `cargo xtask bench chat`: built-in-engine chat turns (add, then list) end to end over HTTP
//! with SQLite, from concurrent users, each in one growing conversation.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use xshell::Shell;

use crate::procs::{Server, free_port};
use crate::project;

/// Latency percentiles of chat turns under concurrent users.
#[derive(clap::Args)]
pub struct Chat {
    /// Concurrent users, each with its own conversation.
    #[arg(long, default_value_t = 20)]
    users: u32,
    /// Add-then-list rounds per user (two turns each).
    #[arg(long, default_value_t = 50)]
    rounds: u32,
}

impl Chat {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if !super::optimised_or_rerun(sh)? {
            return Ok(());
        }
        let work = project::root().join("target").join("bench").join("chat");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).context("creating target/bench/chat")?;
        let backend = super::shipped_backend(sh)?;
        let secret = crate::tokens::random_secret();
        let port = free_port()?;
        let database_url = format!("sqlite://{}", work.join("chat.db").display());
        let expression = super::backend_command(&backend, port, &database_url, &secret)
            .env("CHAT_ENGINE", "builtin");
        let server = Server::start("backend", expression, port, &work.join("backend.log"))?;
        crate::runtime::block_on(self.measure(&server, &secret))?
    }

    async fn measure(&self, server: &Server, secret: &str) -> anyhow::Result<()> {
        let client = crate::http::client()?;
        server
            .wait_ready(&client, "/readyz", Duration::from_secs(60))
            .await?;
        let started = Instant::now();
        let mut users = Vec::new();
        for n in 0..self.users {
            let user = format!("chat-bench-{n}");
            let token = crate::tokens::mint_token(secret, &user, super::TOKEN_LIFETIME)?;
            let (client, base, rounds) = (client.clone(), server.base_url.clone(), self.rounds);
            users.push(tokio::spawn(async move {
                one_user(client, base, user, token, rounds).await
            }));
        }
        let mut turns: Vec<(usize, Duration)> = Vec::new();
        for user in users {
            turns.extend(user.await.context("a bench user panicked")??);
        }
        let elapsed = started.elapsed();
        let mut all: Vec<Duration> = turns.iter().map(|(_, d)| *d).collect();
        all.sort();
        let early: Vec<Duration> = sorted(turns.iter().filter(|(i, _)| *i < 10).map(|(_, d)| *d));
        let late: Vec<Duration> = sorted(
            turns
                .iter()
                .filter(|(i, _)| *i >= 2 * self.rounds as usize - 10)
                .map(|(_, d)| *d),
        );
        println!();
        println!(
            "built-in chat turns over HTTP (SQLite): {} users × {} rounds (add, then list), {} turns in {:.1}s = {:.0} turns/s",
            self.users,
            self.rounds,
            all.len(),
            elapsed.as_secs_f64(),
            all.len() as f64 / elapsed.as_secs_f64()
        );
        println!("| turns | p50 ms | p90 ms | p99 ms | max ms |");
        println!("|---|---:|---:|---:|---:|");
        for (label, set) in [
            ("all", &all),
            ("first 10 per user", &early),
            ("last 10 per user", &late),
        ] {
            println!(
                "| {label} | {:.2} | {:.2} | {:.2} | {:.2} |",
                percentile(set, 0.50),
                percentile(set, 0.90),
                percentile(set, 0.99),
                percentile(set, 1.0)
            );
        }
        Ok(())
    }
}

/// One user's conversation: `rounds` × (add a task, list tasks); returns (turn index, latency).
async fn one_user(
    client: reqwest::Client,
    base: String,
    user: String,
    token: String,
    rounds: u32,
) -> anyhow::Result<Vec<(usize, Duration)>> {
    let url = format!("{base}/api/{user}/chat");
    let mut conversation: Option<i64> = None;
    let mut turns = Vec::new();
    for round in 0..rounds {
        for message in [
            format!("Add a task to buy milk number {round}"),
            "Show me all my tasks".to_owned(),
        ] {
            let mut body = serde_json::json!({ "message": message });
            if let Some(id) = conversation {
                body["conversation_id"] = id.into();
            }
            let started = Instant::now();
            let response = client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .with_context(|| format!("chat turn for {user}"))?;
            let status = response.status();
            let reply: serde_json::Value = response.json().await.context("reading a chat reply")?;
            let latency = started.elapsed();
            if !status.is_success() {
                bail!("chat turn for {user} answered {status}: {reply}");
            }
            if reply["tool_calls"].as_array().is_none_or(Vec::is_empty) {
                bail!("chat turn `{message}` ran no tool: {reply}");
            }
            conversation = reply["conversation_id"].as_i64();
            turns.push((turns.len(), latency));
        }
    }
    Ok(turns)
}

fn sorted(values: impl Iterator<Item = Duration>) -> Vec<Duration> {
    let mut v: Vec<Duration> = values.collect();
    v.sort();
    v
}

/// The `q` quantile of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 0.50), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&values, 1.0), 100.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
