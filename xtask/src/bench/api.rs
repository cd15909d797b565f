//! `cargo xtask bench api`: GET the list of N tasks under C concurrent connections, our
//! backend against the seed's FastAPI peer, on SQLite and on PostgreSQL.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use xshell::Shell;

use super::peer::Peer;
use super::stats::{Show, Spread};
use super::store::{Db, Store};
use super::wrk::{self, Load, WrkReport};
use crate::procs::{Server, free_port};
use crate::project;

/// Ours vs the peer: requests/s, p50/p99 latency and peak resident memory.
#[derive(clap::Args)]
pub struct Api {
    /// Databases to measure on.
    #[arg(long, value_enum, default_value = "both")]
    db: DbChoice,
    /// Seconds of load per server.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Concurrent connections.
    #[arg(long, default_value_t = 50)]
    connections: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Tasks in the listed user's list.
    #[arg(long, default_value_t = 50)]
    tasks: u32,
    /// The peer's folder (default: ../shared/peers/fastapi-todo beside the repository).
    #[arg(long)]
    peer_dir: Option<PathBuf>,
    /// Measure our backend only.
    #[arg(long)]
    no_peer: bool,
    /// Rounds per database, ours then the peer in each, so both see the machine's drift
    /// alike; the table gives the median and the range of the rounds.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DbChoice {
    Sqlite,
    Postgres,
    Both,
}

/// One measured run.
struct Row {
    db: &'static str,
    server: &'static str,
    round: u32,
    report: WrkReport,
    peak_mib: f64,
}

impl Api {
    pub fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let work = project::root().join("target").join("bench").join("api");
        std::fs::create_dir_all(&work).context("creating target/bench/api")?;
        let backend = super::shipped_backend(sh)?;
        let peer = if self.no_peer {
            None
        } else {
            Some(Peer::prepare(sh, self.peer_dir.clone())?)
        };

        let load = Load {
            threads: self.threads,
            connections: self.connections,
            seconds: self.seconds,
        };
        let secret = crate::tokens::random_secret();
        let run = Run {
            sh,
            work: &work,
            load,
            secret: &secret,
            tasks: self.tasks,
        };
        let mut rows = Vec::new();

        let databases: &[Db] = match self.db {
            DbChoice::Sqlite => &[Db::Sqlite],
            DbChoice::Postgres => &[Db::Postgres],
            DbChoice::Both => &[Db::Sqlite, Db::Postgres],
        };
        for &kind in databases {
            let store = Store::open(&work, kind)?;
            let db = kind.name();

            for round in 1..=self.runs {
                println!("==> {db}, round {round} of {}", self.runs);
                let (ours_url, _) = store.fresh(&format!("ours{round}"))?;
                let port = free_port()?;
                let ours = super::backend_command(&backend, port, &ours_url, &secret);
                let (report, peak_mib) = run.once(
                    "backend",
                    ours,
                    port,
                    "/readyz",
                    &format!("ours-{db}-{round}"),
                )?;
                rows.push(Row {
                    db,
                    server: "ours (Rust)",
                    round,
                    report,
                    peak_mib,
                });

                if let Some(peer) = &peer {
                    let (_, peer_url) = store.fresh(&format!("peer{round}"))?;
                    let port = free_port()?;
                    let theirs = peer.command(port, &peer_url, &secret)?;
                    let (report, peak_mib) = run.once(
                        "peer",
                        theirs,
                        port,
                        "/healthz",
                        &format!("peer-{db}-{round}"),
                    )?;
                    rows.push(Row {
                        db,
                        server: "peer (FastAPI)",
                        round,
                        report,
                        peak_mib,
                    });
                }
            }
        }
        print_table(&rows, load, self.tasks);
        Ok(())
    }
}

/// What every measured server of one `bench api` shares.
struct Run<'a> {
    sh: &'a Shell,
    work: &'a Path,
    load: Load,
    secret: &'a str,
    tasks: u32,
}

impl Run<'_> {
    /// Starts a server (its log in `<log>.log`), measures it, and stops it.
    fn once(
        &self,
        name: &str,
        expression: duct::Expression,
        port: u16,
        ready_path: &str,
        log: &str,
    ) -> anyhow::Result<(WrkReport, f64)> {
        let server = Server::start(
            name,
            expression,
            port,
            &self.work.join(format!("{log}.log")),
        )?;
        crate::runtime::block_on(measure(
            self.sh,
            &server,
            ready_path,
            self.load,
            self.secret,
            self.tasks,
        ))?
    }
}

/// Seeds the list, then runs wrk while sampling memory.
async fn measure(
    sh: &Shell,
    server: &Server,
    ready_path: &str,
    load: Load,
    secret: &str,
    tasks: u32,
) -> anyhow::Result<(WrkReport, f64)> {
    let client = crate::http::client()?;
    server
        .wait_ready(&client, ready_path, Duration::from_secs(60))
        .await?;
    let (url, token) = seed_list(&client, server, secret, tasks).await?;
    println!(
        "measuring {} ({}s, {} connections)",
        server.name, load.seconds, load.connections
    );
    let sampler = server.sample_memory();
    let report = tokio::task::block_in_place(|| wrk::run(sh, load, &url, &token))?;
    Ok((report, sampler.finish()))
}

/// Seeds one user's list with `tasks` tasks and checks they are all listed; returns the list's
/// URL and the user's token.
pub(super) async fn seed_list(
    client: &reqwest::Client,
    server: &Server,
    secret: &str,
    tasks: u32,
) -> anyhow::Result<(String, String)> {
    let user = "bench-user";
    let token = crate::tokens::mint_token(secret, user, super::TOKEN_LIFETIME)?;
    let url = format!("{}/api/{user}/tasks", server.base_url);
    for n in 1..=tasks {
        let body = serde_json::json!({ "title": format!("Benchmark task {n}"), "description": "seeded by cargo xtask bench" });
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("seeding {}", server.name))?;
        if response.status() != reqwest::StatusCode::CREATED
            && response.status() != reqwest::StatusCode::OK
        {
            bail!(
                "seeding {} answered {}: {}",
                server.name,
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
    }
    let listed: serde_json::Value = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .with_context(|| format!("listing on {}", server.name))?
        .json()
        .await
        .with_context(|| format!("listing on {}", server.name))?;
    let count = listed.as_array().map_or(0, Vec::len);
    if count != tasks as usize {
        bail!("{} lists {count} tasks after seeding {tasks}", server.name);
    }
    Ok((url, token))
}

fn print_table(rows: &[Row], load: Load, tasks: u32) {
    let runs = rows.iter().map(|r| r.round).max().unwrap_or(0);
    println!();
    println!(
        "GET /api/{{user}}/tasks ({tasks} tasks), wrk -t{} -c{} -d{}s --latency; \
         median [min–max] of {runs} alternating round(s)",
        load.threads, load.connections, load.seconds
    );
    println!(
        "| database | server | requests/s | p50 ms | p99 ms | peak RSS MiB | non-2xx | ratio to the peer |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for row in rows {
        if !groups.contains(&(row.db, row.server)) {
            groups.push((row.db, row.server));
        }
    }
    for (db, server) in groups {
        let runs: Vec<&Row> = rows
            .iter()
            .filter(|r| r.db == db && r.server == server)
            .collect();
        let of = |pick: fn(&Row) -> f64| Spread::of(runs.iter().map(|r| pick(r)));
        // Each round's ratio is to the peer's run beside it, in the same minutes.
        let ratios = Spread::of(runs.iter().filter_map(|row| {
            rows.iter()
                .find(|r| r.db == db && r.round == row.round && r.server.starts_with("peer"))
                .filter(|peer| peer.report.requests_per_sec > 0.0)
                .map(|peer| row.report.requests_per_sec / peer.report.requests_per_sec)
        }));
        let failures: u64 = runs
            .iter()
            .map(|r| r.report.non_2xx + r.report.socket_errors)
            .sum();
        println!(
            "| {db} | {server} | {} | {} | {} | {} | {failures} | {} |",
            of(|r| r.report.requests_per_sec).show(0, ""),
            of(|r| r.report.p50_ms).show(2, ""),
            of(|r| r.report.p99_ms).show(2, ""),
            of(|r| r.peak_mib).show(1, ""),
            ratios.show(1, "×"),
        );
    }
}
