//! The open-loop load generator of `bench latency`: request `n` is due at `start + n / rate`
//! and leaves then, whatever the requests before it are doing, and its latency counts from
//! that due instant (so a slow server cannot hide its queue, as it can from a closed loop).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;

/// Requests past this many in flight are not sent but counted as dropped: an overloaded
/// server then ends the step instead of the load generator's memory.
const MAX_IN_FLIGHT: usize = 4096;
/// A request that has not answered by then counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Load offered before the measured window, so connections are open and caches warm.
pub(super) const WARM_UP: Duration = Duration::from_secs(1);

/// What one offered rate measured (its measured window only).
pub struct Step {
    pub(super) rate: u32,
    /// Latencies in microseconds, from the instant each request was due.
    pub(super) latencies: Histogram<u64>,
    pub(super) ok: u64,
    pub(super) failed: u64,
    pub(super) dropped: u64,
    pub(super) first_failure: Option<String>,
    pub(super) measured: Duration,
}

impl Step {
    pub(super) fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        self.latencies.value_at_quantile(q) as f64 / 1000.0
    }

    /// Answered fewer than 90% of the requests offered in the window, or dropped some.
    pub(super) fn saturated(&self) -> bool {
        let offered = f64::from(self.rate) * self.measured.as_secs_f64();
        self.dropped > 0 || (self.ok as f64) < 0.9 * offered
    }

    /// Every request answered well, with the p99 within `target_ms`.
    pub(super) fn holds(&self, target_ms: f64) -> bool {
        self.failed == 0 && self.dropped == 0 && self.quantile_ms(0.99) <= target_ms
    }
}

/// A user of the chat scenario and their conversation.
pub(super) struct ChatUser {
    pub(super) id: String,
    pub(super) token: String,
    pub(super) conversation: i64,
}

/// What each scheduled request does.
pub(super) enum Scenario {
    /// GET the seeded list.
    List {
        client: reqwest::Client,
        url: String,
        token: String,
    },
    /// Chat turns going round the users: each user's turns alternate adding a task and
    /// listing the tasks, in one conversation.
    Chat {
        client: reqwest::Client,
        base: String,
        users: Vec<ChatUser>,
    },
}

impl Scenario {
    /// Sends request `n`; an error says what went wrong.
    async fn call(&self, n: u64) -> Result<(), String> {
        match self {
            Self::List { client, url, token } => {
                let response = client
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
                let status = response.status();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
                if status != reqwest::StatusCode::OK || body.first() != Some(&b'[') {
                    return Err(format!("listing answered {status}"));
                }
                Ok(())
            }
            Self::Chat {
                client,
                base,
                users,
            } => {
                let count = users.len() as u64;
                let Some(user) = usize::try_from(n % count.max(1))
                    .ok()
                    .and_then(|i| users.get(i))
                else {
                    return Err("no chat users".to_owned());
                };
                let message = if (n / count).is_multiple_of(2) {
                    format!("Add a task to buy milk number {n}")
                } else {
                    "Show me all my tasks".to_owned()
                };
                chat_turn(
                    client,
                    base,
                    &user.id,
                    &user.token,
                    Some(user.conversation),
                    &message,
                )
                .await
                .map(|_| ())
            }
        }
    }
}

/// One chat turn; the reply, or what was wrong with it (a turn must run a tool).
pub(super) async fn chat_turn(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    token: &str,
    conversation: Option<i64>,
    message: &str,
) -> Result<serde_json::Value, String> {
    let mut body = serde_json::json!({ "message": message });
    if let Some(id) = conversation {
        body["conversation_id"] = id.into();
    }
    let response = client
        .post(format!("{base}/api/{user}/chat"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
    let status = response.status();
    let reply: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
    if !status.is_success() {
        return Err(format!("chat answered {status}: {reply}"));
    }
    if reply["tool_calls"].as_array().is_none_or(Vec::is_empty) {
        return Err(format!("the turn `{message}` ran no tool: {reply}"));
    }
    Ok(reply)
}

pub(super) fn client() -> anyhow::Result<reqwest::Client> {
    crate::http::client_with_timeout(REQUEST_TIMEOUT)
}

/// When one scheduled request was due, when it finished, and how.
struct Outcome {
    due: Instant,
    done: Instant,
    result: Result<(), String>,
}

/// Offers `rate` requests/s for the warm-up and then `measured`: request `n` is due at
/// `start + n / rate` and leaves then (a thread that sleeps to each due instant spawns it),
/// however many are still in flight, up to `MAX_IN_FLIGHT`.
pub(super) async fn offer(
    scenario: &Arc<Scenario>,
    rate: u32,
    measured: Duration,
) -> anyhow::Result<Step> {
    if rate == 0 {
        bail!("a rate of 0 requests/s offers nothing; give rates above 0");
    }
    let runtime = tokio::runtime::Handle::current();
    let (sender, mut outcomes) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let window = start + WARM_UP;
    let total = (f64::from(rate) * (WARM_UP + measured).as_secs_f64()) as u64;
    let nanos_apart = 1_000_000_000 / u64::from(rate);
    let scheduler = {
        let (scenario, in_flight) = (Arc::clone(scenario), Arc::clone(&in_flight));
        std::thread::Builder::new()
            .name("open-loop".to_owned())
            .spawn(move || {
                let mut dropped = 0_u64;
                for n in 0..total {
                    let due = start + Duration::from_nanos(n * nanos_apart);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
                        dropped += u64::from(due >= window);
                        continue;
                    }
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let (scenario, in_flight, sender) = (
                        Arc::clone(&scenario),
                        Arc::clone(&in_flight),
                        sender.clone(),
                    );
                    runtime.spawn(async move {
                        let result = scenario.call(n).await;
                        let done = Instant::now();
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        let _ = sender.send(Outcome { due, done, result });
                    });
                }
                dropped
            })
            .context("starting the load generator's scheduler thread")?
    };
    let mut step = Step {
        rate,
        latencies: Histogram::new_with_bounds(1, 60_000_000, 3)
            .context("creating the latency histogram")?,
        ok: 0,
        failed: 0,
        dropped: 0,
        first_failure: None,
        measured,
    };
    // Ends when the scheduler and every request it spawned have dropped their senders.
    while let Some(outcome) = outcomes.recv().await {
        if outcome.due < window {
            continue;
        }
        match outcome.result {
            Ok(()) => {
                step.ok += 1;
                let micros = outcome
                    .done
                    .saturating_duration_since(outcome.due)
                    .as_micros();
                step.latencies
                    .saturating_record(u64::try_from(micros).unwrap_or(u64::MAX));
            }
            Err(failure) => {
                step.failed += 1;
                step.first_failure.get_or_insert(failure);
            }
        }
    }
    step.dropped = tokio::task::spawn_blocking(move || scheduler.join())
        .await
        .context("waiting for the scheduler thread")?
        .map_err(|_| anyhow::anyhow!("the load generator's scheduler thread panicked"))?;
    Ok(step)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn step(rate: u32, latencies_us: &[u64], failed: u64, dropped: u64) -> Step {
        let mut histogram = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        for &l in latencies_us {
            histogram.record(l).unwrap();
        }
        Step {
            rate,
            latencies: histogram,
            ok: latencies_us.len() as u64,
            failed,
            dropped,
            first_failure: None,
            measured: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_step_holds_only_with_its_p99_on_target_and_nothing_lost() {
        let fast: Vec<u64> = (1..=100).map(|n| n * 10).collect(); // 10 µs .. 1 ms
        assert!(step(100, &fast, 0, 0).holds(2.0));
        assert!(!step(100, &fast, 1, 0).holds(2.0), "a failure breaks it");
        assert!(!step(100, &fast, 0, 1).holds(2.0), "a drop breaks it");
        let slow: Vec<u64> = (1..=100).map(|n| n * 100).collect(); // p99 = 9.9 ms
        assert!(!step(100, &slow, 0, 0).holds(2.0));
        assert!((step(100, &slow, 0, 0).quantile_ms(0.99) - 9.9).abs() < 0.01);
    }

    #[test]
    fn a_step_that_answers_under_nine_tenths_of_its_offer_is_saturated() {
        let answered: Vec<u64> = vec![500; 95];
        assert!(!step(100, &answered, 0, 0).saturated());
        assert!(step(100, &answered[..80], 0, 0).saturated());
        assert!(step(100, &answered, 0, 1).saturated());
    }

    /// The generator against a local server that answers after a fixed delay: the offered
    /// rate is kept while requests overlap, and latency counts from the due instant.
    #[test]
    fn the_open_loop_keeps_its_rate_while_answers_are_slow() {
        crate::runtime::block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                loop {
                    let (mut socket, _) = listener.accept().await.unwrap();
                    tokio::spawn(async move {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let mut buffer = vec![0_u8; 4096];
                        while let Ok(read) = socket.read(&mut buffer).await {
                            if read == 0 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]";
                            if socket.write_all(answer.as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            });
            let scenario = Arc::new(Scenario::List {
                client: client().unwrap(),
                url: format!("http://127.0.0.1:{port}/"),
                token: "t".to_owned(),
            });
            // 200/s with 50 ms answers: about 10 requests are always in flight, which a
            // closed loop of one connection could never offer.
            let step = offer(&scenario, 200, Duration::from_secs(1)).await.unwrap();
            assert_eq!(
                (step.failed, step.dropped),
                (0, 0),
                "{:?}",
                step.first_failure
            );
            assert_eq!(step.ok, 200, "every due request was sent and answered");
            assert!(
                step.quantile_ms(0.50) >= 50.0,
                "latency includes the server's 50 ms"
            );
            assert!(!step.saturated());
        })
        .unwrap();
    }
}
