//! `cargo xtask bench latency`: latency at a steady offered rate, the way users feel it.
//!
//! wrk (in `bench api`) keeps a fixed number of requests in flight, so a slow answer delays the
//! next request and hides itself (coordinated omission). Here requests leave on a fixed
//! schedule whatever the earlier ones are doing (an open loop, as wrk2 or a constant-arrival
//! load does), and each latency counts from the instant its request was due, not from when it
//! was actually sent. The rates climb a ladder; the table gives, for each rate, the median and
//! range over alternating rounds, and the highest rate at which the p99 target still holds.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use xshell::Shell;

use super::open_loop::{ChatUser, Scenario, Step, WARM_UP, chat_turn, client, offer};

use super::peer::Peer;
use super::stats::{Show, Spread};
use super::store::{Db, Store};
use crate::procs::{Server, free_port};
use crate::project;

/// Climbs offered rates of task listings (ours and the peer) and chat turns (ours).
#[derive(clap::Args)]
pub struct Latency {
    /// What to offer: listings, chat turns, or both.
    #[arg(long, value_enum, default_value = "both")]
    scenario: ScenarioChoice,
    /// The rates (requests/s) our backend's listing is offered, climbed in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,2000,3000,4000,5000,6000"
    )]
    list_rates: Vec<u32>,
    /// The rates the peer's listing is offered (it saturates near 350 requests/s here).
    #[arg(long, value_delimiter = ',', default_value = "50,100,200,300")]
    peer_rates: Vec<u32>,
    /// The rates (turns/s) of chat turns, climbed in order.
    #[arg(long, value_delimiter = ',', default_value = "100,200,300,400,600,800")]
    chat_rates: Vec<u32>,
    /// The listing's p99 target in milliseconds.
    #[arg(long, default_value_t = 2.0)]
    list_p99_ms: f64,
    /// The chat turn's p99 target in milliseconds.
    #[arg(long, default_value_t = 10.0)]
    chat_p99_ms: f64,
    /// Measured seconds per rate (after one second of warm-up).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    seconds: u32,
    /// Rounds; in each, ours climbs its ladder, then the peer climbs its own.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Tasks in the listed user's list.
    #[arg(long, default_value_t = 50)]
    tasks: u32,
    /// Chat users at each rate, each in one conversation; turns go round them.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    chat_users: u32,
    /// The database behind both servers.
    #[arg(long, value_enum, default_value = "sqlite")]
    db: Db,
    /// The peer's folder (default: ../shared/peers/fastapi-todo beside the repository).
    #[arg(long)]
    peer_dir: Option<PathBuf>,
    /// Measure our backend only.
    #[arg(long)]
    no_peer: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScenarioChoice {
    List,
    Chat,
    Both,
}

/// One server's ladder in one round.
struct Climb {
    label: &'static str,
    target_ms: f64,
    steps: Vec<Step>,
}

impl Latency {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if !super::optimised_or_rerun(sh)? {
            return Ok(());
        }
        let work = project::target_dir().join("bench").join("latency");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).context("creating target/bench/latency")?;
        let backend = super::shipped_backend(sh)?;
        let lists = self.scenario != ScenarioChoice::Chat;
        let peer = if self.no_peer || !lists {
            None
        } else {
            Some(Peer::prepare(sh, self.peer_dir.clone())?)
        };
        let store = Store::open(&work, self.db)?;
        let secret = crate::tokens::random_secret();
        let mut climbs = Vec::new();
        for round in 1..=self.runs {
            println!("==> round {round} of {}", self.runs);
            if lists {
                let (url, _) = store.fresh(&format!("ours-list-{round}"))?;
                let server = self.start_ours(
                    &backend,
                    &work,
                    &url,
                    &secret,
                    &format!("ours-list-{round}"),
                )?;
                let steps = self.climb_listing(
                    &server,
                    "/readyz",
                    &self.list_rates,
                    self.list_p99_ms,
                    &secret,
                )?;
                climbs.push(Climb {
                    label: "listing, ours (Rust)",
                    target_ms: self.list_p99_ms,
                    steps,
                });
                drop(server);
                if let Some(peer) = &peer {
                    let (_, url) = store.fresh(&format!("peer-list-{round}"))?;
                    let port = free_port()?;
                    let log = work.join(format!("peer-list-{round}.log"));
                    let server =
                        Server::start("peer", peer.command(port, &url, &secret)?, port, &log)?;
                    let steps = self.climb_listing(
                        &server,
                        "/healthz",
                        &self.peer_rates,
                        self.list_p99_ms,
                        &secret,
                    )?;
                    climbs.push(Climb {
                        label: "listing, peer (FastAPI)",
                        target_ms: self.list_p99_ms,
                        steps,
                    });
                }
            }
            if self.scenario != ScenarioChoice::List {
                let (url, _) = store.fresh(&format!("ours-chat-{round}"))?;
                let server = self.start_ours(
                    &backend,
                    &work,
                    &url,
                    &secret,
                    &format!("ours-chat-{round}"),
                )?;
                let steps = self.climb_chat(&server, round, &secret)?;
                climbs.push(Climb {
                    label: "chat turn, ours (Rust)",
                    target_ms: self.chat_p99_ms,
                    steps,
                });
            }
        }
        print_tables(&climbs, self.runs, self.seconds, self.db);
        Ok(())
    }

    fn start_ours(
        &self,
        backend: &Path,
        work: &Path,
        database_url: &str,
        secret: &str,
        log: &str,
    ) -> anyhow::Result<Server> {
        let port = free_port()?;
        let expression = super::backend_command(backend, port, database_url, secret)
            .env("CHAT_ENGINE", "builtin");
        Server::start(
            "backend",
            expression,
            port,
            &work.join(format!("{log}.log")),
        )
    }

    fn climb_listing(
        &self,
        server: &Server,
        ready_path: &str,
        rates: &[u32],
        target_ms: f64,
        secret: &str,
    ) -> anyhow::Result<Vec<Step>> {
        crate::runtime::block_on(async {
            let client = client()?;
            server
                .wait_ready(&client, ready_path, Duration::from_secs(60))
                .await?;
            let (url, token) = super::api::seed_list(&client, server, secret, self.tasks).await?;
            let scenario = Arc::new(Scenario::List { client, url, token });
            self.climb(server, rates, target_ms, async |_| {
                Ok(Arc::clone(&scenario))
            })
            .await
        })?
    }

    fn climb_chat(&self, server: &Server, round: u32, secret: &str) -> anyhow::Result<Vec<Step>> {
        crate::runtime::block_on(async {
            let client = client()?;
            server
                .wait_ready(&client, "/readyz", Duration::from_secs(60))
                .await?;
            // Fresh users at each rate, so no rate inherits the conversations of the last.
            self.climb(server, &self.chat_rates, self.chat_p99_ms, async |rate| {
                let prefix = format!("r{round}-{rate}");
                let users = self
                    .open_conversations(&client, server, &prefix, secret)
                    .await?;
                Ok(Arc::new(Scenario::Chat {
                    client: client.clone(),
                    base: server.base_url.clone(),
                    users,
                }))
            })
            .await
        })?
    }

    /// Offers each rate in turn (with the scenario `at_rate` gives), stopping once the server
    /// cannot keep up.
    async fn climb(
        &self,
        server: &Server,
        rates: &[u32],
        target_ms: f64,
        mut at_rate: impl AsyncFnMut(u32) -> anyhow::Result<Arc<Scenario>>,
    ) -> anyhow::Result<Vec<Step>> {
        let mut steps = Vec::new();
        for &rate in rates {
            let scenario = at_rate(rate).await?;
            let step = offer(&scenario, rate, self.measured()).await?;
            let stop = report_step(server, &step, target_ms);
            steps.push(step);
            if stop {
                break;
            }
        }
        Ok(steps)
    }

    fn measured(&self) -> Duration {
        Duration::from_secs(u64::from(self.seconds))
    }

    /// One user per `chat_users`, each with a conversation opened by a first (unmeasured) turn.
    async fn open_conversations(
        &self,
        client: &reqwest::Client,
        server: &Server,
        prefix: &str,
        secret: &str,
    ) -> anyhow::Result<Vec<ChatUser>> {
        let mut users = Vec::new();
        for n in 0..self.chat_users {
            let id = format!("latency-{prefix}-{n}");
            let token = crate::tokens::mint_token(secret, &id, super::TOKEN_LIFETIME)?;
            let reply = chat_turn(
                client,
                &server.base_url,
                &id,
                &token,
                None,
                "Add a task to start",
            )
            .await
            .map_err(|failure| {
                anyhow::anyhow!("opening a conversation on {}: {failure}", server.name)
            })?;
            let conversation = reply["conversation_id"].as_i64().with_context(|| {
                format!("the first chat turn answered no conversation_id: {reply}")
            })?;
            users.push(ChatUser {
                id,
                token,
                conversation,
            });
        }
        Ok(users)
    }
}

/// Prints one step's line; true when the climb should stop (the server could not keep up, or
/// the p99 is far past the target, so higher rates would only queue).
fn report_step(server: &Server, step: &Step, target_ms: f64) -> bool {
    println!(
        "  {} at {:>5}/s: p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, {} ok, {} failed, {} dropped{}",
        server.name,
        step.rate,
        step.quantile_ms(0.50),
        step.quantile_ms(0.99),
        step.quantile_ms(1.0),
        step.ok,
        step.failed,
        step.dropped,
        step.first_failure
            .as_deref()
            .map(|f| format!(" (first: {f})"))
            .unwrap_or_default()
    );
    let stop = step.saturated() || step.quantile_ms(0.99) > 10.0 * target_ms;
    if stop {
        println!("  {} stops climbing at {}/s", server.name, step.rate);
    }
    stop
}

fn print_tables(climbs: &[Climb], runs: u32, seconds: u32, db: Db) {
    println!();
    println!(
        "Open-loop latency ({}; {seconds} s measured per rate after {} s of warm-up; latency from \
         each request's due instant); median [min–max] of {runs} round(s)",
        db.name(),
        WARM_UP.as_secs()
    );
    let mut labels: Vec<&str> = Vec::new();
    for climb in climbs {
        if !labels.contains(&climb.label) {
            labels.push(climb.label);
        }
    }
    for label in labels {
        let of_label: Vec<&Climb> = climbs.iter().filter(|c| c.label == label).collect();
        let target_ms = of_label.first().map_or(f64::NAN, |c| c.target_ms);
        let mut rates: Vec<u32> = of_label
            .iter()
            .flat_map(|c| c.steps.iter().map(|s| s.rate))
            .collect();
        rates.sort_unstable();
        rates.dedup();
        println!();
        println!("{label}: p99 target {target_ms} ms");
        println!(
            "| offered /s | p50 ms | p99 ms | p99.9 ms | max ms | failed + dropped | p99 target held |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        let mut highest_held = None;
        for rate in rates {
            let steps: Vec<&Step> = of_label
                .iter()
                .filter_map(|c| c.steps.iter().find(|s| s.rate == rate))
                .collect();
            let of = |q: f64| Spread::of(steps.iter().map(|s| s.quantile_ms(q)));
            let lost: u64 = steps.iter().map(|s| s.failed + s.dropped).sum();
            let held = steps.iter().filter(|s| s.holds(target_ms)).count();
            println!(
                "| {rate} | {} | {} | {} | {} | {lost} | {held} of {runs} |",
                of(0.50).show(2, ""),
                of(0.99).show(2, ""),
                of(0.999).show(2, ""),
                of(1.0).show(1, ""),
            );
            // Held: every round reached this rate, lost nothing, and the median p99 is on target.
            let median_held = of(0.99).is_some_and(|s| s.median <= target_ms);
            if steps.len() == runs as usize && lost == 0 && median_held {
                highest_held = Some(rate);
            }
        }
        match highest_held {
            Some(rate) => {
                println!("highest offered rate whose median p99 held {target_ms} ms: {rate}/s")
            }
            None => println!("no offered rate held a median p99 of {target_ms} ms"),
        }
    }
}
