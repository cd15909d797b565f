//! Starts the real `backend` and `frontend` binaries with the env the Minikube profile renders
//! (only addresses, the database file and the key file swapped for local ones), checks every
//! rendered probe path answers 200, drives a task and a chat round trip through the frontend,
//! and returns the metric names both services export.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use super::{Container, Service};
use crate::project;

/// A started service, stopped when dropped.
struct Running {
    name: &'static str,
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// A `helm test` Job's command line for the backend binary.
#[derive(Debug, Clone)]
pub struct HelmTest {
    pub name: String,
    pub args: Vec<String>,
}

pub fn exercise(
    sh: &Shell,
    containers: &[Container],
    helm_tests: &[HelmTest],
) -> anyhow::Result<BTreeSet<String>> {
    let find = |service| {
        containers
            .iter()
            .find(|c| c.service == service)
            .with_context(|| format!("the Minikube profile renders no {service:?} Deployment"))
    };
    let (backend_spec, frontend_spec) = (find(Service::Backend)?, find(Service::Frontend)?);

    cmd!(sh, "cargo build --quiet -p todo-backend -p todo-frontend")
        .run()
        .context("building the backend and frontend binaries")?;
    let bin = project::target_dir().join("debug");
    let work = tempfile::tempdir().context("creating a work folder for the services")?;

    let key_file = work.path().join("better-auth-secret");
    std::fs::write(&key_file, "lint-only-key-not-a-secret-0123456789abcdef\n")
        .context("writing the key file")?;
    let mut backend_env = backend_spec.env.clone();
    let backend_port = free_port()?;
    local_overrides(&mut backend_env, backend_port);
    backend_env.insert(
        "DATABASE_URL".into(),
        format!("sqlite://{}/todo.db", work.path().display()),
    );
    if backend_env.contains_key("BETTER_AUTH_SECRET_FILE") {
        backend_env.insert(
            "BETTER_AUTH_SECRET_FILE".into(),
            key_file.display().to_string(),
        );
    }
    let backend = start(
        "backend",
        &bin.join("backend"),
        &backend_env,
        backend_port,
        work.path(),
    )?;
    check_probes(&backend, &backend_spec.probe_paths)?;

    let mut frontend_env = frontend_spec.env.clone();
    let frontend_port = free_port()?;
    local_overrides(&mut frontend_env, frontend_port);
    frontend_env.insert(
        "BACKEND_URL".into(),
        format!("http://127.0.0.1:{backend_port}"),
    );
    let frontend = start(
        "frontend",
        &bin.join("frontend"),
        &frontend_env,
        frontend_port,
        work.path(),
    )?;
    check_probes(&frontend, &frontend_spec.probe_paths)?;
    println!(
        "    backend and frontend serve every rendered probe path ({:?})",
        backend_spec.probe_paths
    );

    run_helm_tests(&bin.join("backend"), helm_tests, frontend_port)?;
    round_trip(frontend_port).with_context(|| {
        format!(
            "the round trip through the frontend failed; backend log:\n{}",
            backend.log_tail()
        )
    })?;
    let mut exported = metric_names(&get(backend_port, "/metrics")?.1);
    drop(backend);
    // With the backend gone, a proxied call fails: the frontend's error series appear.
    let (status, _) = get(frontend_port, "/api/openapi.json")?;
    if !(500..600).contains(&status) {
        bail!(
            "the frontend answered {status} for a proxied call with the backend stopped; expected a 5xx"
        );
    }
    exported.extend(metric_names(&get(frontend_port, "/metrics")?.1));
    println!(
        "    both services exported {} metric series names after the round trip",
        exported.len()
    );
    Ok(exported)
}

/// Runs each `helm test` command as the test Job would, with the frontend Service's address
/// (`http://<name>:3000`) replaced by the local frontend's.
fn run_helm_tests(backend: &Path, tests: &[HelmTest], frontend_port: u16) -> anyhow::Result<()> {
    if tests.is_empty() {
        bail!("the Minikube profile renders no `helm test` pods");
    }
    for test in tests {
        let args: Vec<String> = test
            .args
            .iter()
            .map(|arg| {
                match arg
                    .strip_prefix("http://")
                    .and_then(|rest| rest.split_once('/'))
                {
                    Some((host, path)) if host.ends_with(":3000") => {
                        format!("http://127.0.0.1:{frontend_port}/{path}")
                    }
                    _ => arg.clone(),
                }
            })
            .collect();
        // The test pods set no env at all.
        let status = Command::new(backend)
            .env_clear()
            .args(&args)
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("running the helm test {}", test.name))?;
        if !status.success() {
            bail!(
                "the helm test {} (`backend {}`) failed: {status}",
                test.name,
                args.join(" ")
            );
        }
    }
    println!(
        "    the {} `helm test` commands pass against the local frontend",
        tests.len()
    );
    Ok(())
}

/// Local addresses instead of the pod's: loopback and a free port.
fn local_overrides(env: &mut BTreeMap<String, String>, port: u16) {
    env.insert("BIND".into(), "127.0.0.1".into());
    env.insert("PORT".into(), port.to_string());
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

fn start(
    name: &'static str,
    program: &Path,
    env: &BTreeMap<String, String>,
    port: u16,
    work: &Path,
) -> anyhow::Result<Running> {
    let log = work.join(format!("{name}.log"));
    let log_file = std::fs::File::create(&log).context("creating a log file")?;
    let child = Command::new(program)
        .env_clear()
        .envs(env)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().context("sharing the log file")?)
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let running = Running {
        name,
        child,
        port,
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = get(port, "/healthz") {
            return Ok(running);
        }
        if Instant::now() > deadline {
            bail!(
                "{name} did not answer /healthz within 30 s; its log:\n{}",
                running.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn check_probes(service: &Running, paths: &BTreeSet<String>) -> anyhow::Result<()> {
    // Readiness may take a moment (the frontend's first backend check): bounded retry.
    let deadline = Instant::now() + Duration::from_secs(15);
    for path in paths {
        loop {
            let (status, body) = get(service.port, path)?;
            if status == 200 {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} answers {status} on the probe path {path}: {body}\nlog:\n{}",
                    service.name,
                    service.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    Ok(())
}

/// Sign up, create, complete and delete a task, and one chat turn, all through the frontend.
fn round_trip(port: u16) -> anyhow::Result<()> {
    let email = format!("lint-{}@example.com", std::process::id());
    let signup = json!({"email": email, "password": "lint-password-1234", "name": "Lint"});
    let (status, body) = request(port, "POST", "/api/auth/sign-up", Some(&signup), None)?;
    expect(status, 201, "sign-up", &body)?;
    let account: Value = serde_json::from_str(&body).context("reading the sign-up answer")?;
    let token = account["token"]
        .as_str()
        .context("sign-up returned no token")?;
    let user = account["user"]["id"]
        .as_str()
        .context("sign-up returned no user id")?;

    let tasks = format!("/api/{user}/tasks");
    let (status, body) = request(
        port,
        "POST",
        &tasks,
        Some(&json!({"title": "lint round trip"})),
        Some(token),
    )?;
    expect(status, 201, "create a task", &body)?;
    let task: Value = serde_json::from_str(&body).context("reading the created task")?;
    let id = task["id"].as_i64().context("the created task has no id")?;
    let (status, body) = request(
        port,
        "PATCH",
        &format!("{tasks}/{id}/complete"),
        None,
        Some(token),
    )?;
    expect(status, 200, "complete the task", &body)?;
    let (status, body) = request(port, "DELETE", &format!("{tasks}/{id}"), None, Some(token))?;
    expect(status, 204, "delete the task", &body)?;
    let chat = json!({"message": "add a task to buy milk"});
    let (status, body) = request(
        port,
        "POST",
        &format!("/api/{user}/chat"),
        Some(&chat),
        Some(token),
    )?;
    expect(status, 200, "a chat turn", &body)
}

fn expect(status: u16, wanted: u16, what: &str, body: &str) -> anyhow::Result<()> {
    if status != wanted {
        bail!("{what} through the frontend answered {status}, expected {wanted}: {body}");
    }
    Ok(())
}

/// Series names in Prometheus text output.
fn metric_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

fn get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    request(port, "GET", path, None, None)
}

/// A minimal HTTP/1.1 client (one request per connection), enough for local checks.
fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("connecting to port {port}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .context("setting a read timeout")?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(payload.as_bytes()))
        .context("sending a request")?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer to {method} {path}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (headers, body) = text
        .split_once("\r\n\r\n")
        .context("an HTTP answer without a header end")?;
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("an HTTP answer without a status")?;
    let chunked = headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        let (Some(chunk), Some(after)) = (rest.get(..size), rest.get(size..)) else {
            break;
        };
        if size == 0 {
            break;
        }
        out.push_str(chunk);
        body = after.trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_come_from_sample_lines_only() {
        let text = "# HELP a_total help\n# TYPE a_total counter\na_total{x=\"1\"} 3\nb 1\nc_bucket{le=\"0.1\"} 2\n";
        let names: Vec<String> = metric_names(text).into_iter().collect();
        assert_eq!(names, ["a_total", "b", "c_bucket"]);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }
}
