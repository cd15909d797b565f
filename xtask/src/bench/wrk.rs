//! Runs wrk and reads its report.

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkReport {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub non_2xx: u64,
    pub socket_errors: u64,
}

/// The load: threads, connections, seconds.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub seconds: u32,
}

/// Runs `wrk` against `url` with a bearer token and returns its report.
pub fn run(sh: &Shell, load: Load, url: &str, token: &str) -> anyhow::Result<WrkReport> {
    let wrk = crate::project::require_tool("wrk", "apt-get install -y wrk")?;
    let (threads, connections, duration) = (
        load.threads.to_string(),
        load.connections.to_string(),
        format!("{}s", load.seconds),
    );
    let header = format!("Authorization: Bearer {token}");
    let output = cmd!(
        sh,
        "{wrk} -t{threads} -c{connections} -d{duration} --latency -H {header} {url}"
    )
    .quiet()
    .read()
    .context("running wrk")?;
    parse(&output).with_context(|| format!("reading wrk's report:\n{output}"))
}

/// Parses wrk's `--latency` report.
pub fn parse(output: &str) -> anyhow::Result<WrkReport> {
    let mut report = WrkReport {
        requests_per_sec: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        requests: 0,
        non_2xx: 0,
        socket_errors: 0,
    };
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => report.requests_per_sec = rate.parse()?,
            ["50%", latency] => report.p50_ms = millis(latency)?,
            ["99%", latency] => report.p99_ms = millis(latency)?,
            [count, "requests", "in", ..] => report.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => report.non_2xx = count.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                report.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    if report.requests_per_sec.is_nan() || report.p99_ms.is_nan() {
        bail!("no requests/sec or 99% latency line");
    }
    Ok(report)
}

/// wrk prints latencies as `812.00us`, `1.23ms` or `1.02s`.
fn millis(text: &str) -> anyhow::Result<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("latency `{text}` has no unit");
    };
    Ok(number
        .parse::<f64>()
        .with_context(|| format!("latency `{text}`"))?
        * scale)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SAMPLE: &str = "Running 10s test @ http://127.0.0.1:8000/api/u/tasks
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.05ms  30.12ms   90.00%
    Req/Sec    12.00k     1.00k   14.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    2.50ms
     90%    3.10ms
     99%    1.02s
  238771 requests in 10.00s, 1.10GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  23870.12
Transfer/sec:    112.00MB
";

    #[test]
    fn parses_rate_percentiles_and_errors_in_every_unit() {
        let report = parse(SAMPLE).unwrap();
        assert_eq!(report.requests_per_sec, 23870.12);
        assert!((report.p50_ms - 0.812).abs() < 1e-9, "{}", report.p50_ms);
        assert_eq!(report.p99_ms, 1020.0);
        assert_eq!(report.requests, 238771);
        assert_eq!(report.non_2xx, 7);
        assert_eq!(report.socket_errors, 5);
    }

    #[test]
    fn a_report_without_a_rate_is_an_error() {
        assert!(parse("unable to connect to 127.0.0.1:1 Connection refused").is_err());
    }
}
