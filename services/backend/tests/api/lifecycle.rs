//! The process around the API: graceful shutdown, request deadline, migrations (alone and
//! concurrent), the `migrate` and `healthcheck` subcommands, and refusal of bad settings.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::{Connection, PgConnection};
use todo_backend::db::Database;
use todo_config::DatabaseUrl;
use todo_testkit::{TEST_SECRET, TestPostgres};

use crate::helpers::*;

const BACKEND: &str = env!("CARGO_BIN_EXE_backend");

/// Locks the task's row from outside the app, so an update of it waits until the returned
/// transaction ends; returns once the app's query is seen waiting for the lock.
async fn hold_row_lock(database_url: &str, task_id: i64) -> (PgConnection, PgConnection) {
    let mut locker = PgConnection::connect(database_url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("SELECT id FROM tasks WHERE id = $1 FOR UPDATE")
        .bind(task_id)
        .execute(&mut locker)
        .await
        .unwrap();
    let observer = PgConnection::connect(database_url).await.unwrap();
    (locker, observer)
}

/// Waits (bounded) until some query of this database waits for a lock.
async fn wait_until_blocked(observer: &mut PgConnection) {
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *observer)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the app's update never reached the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_an_in_flight_request_finish() {
    let Some(database) = TestPostgres::fresh().await else {
        return;
    };
    let mut app = TestApp::spawn_on(&database.url, &[("SHUTDOWN_GRACE_SECONDS", "20")]).await;
    let user = app.sign_up(&email("drain")).await;
    let id = create_task(&app, &user, "before").await["id"]
        .as_i64()
        .unwrap();
    let (mut locker, mut observer) = hold_row_lock(&database.url, id).await;

    let slow = tokio::spawn(
        app.client
            .put(app.url(&task_path(&user, id)))
            .header("authorization", user.bearer())
            .json(&json!({"title": "finished while draining"}))
            .send(),
    );
    wait_until_blocked(&mut observer).await;
    let server = app.begin_shutdown().expect("the server task");

    // New connections are refused once draining starts (bounded wait for the listener to close).
    let fresh_client = reqwest::Client::new();
    let started = Instant::now();
    while fresh_client.get(app.url("/healthz")).send().await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the listener never closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    let response = slow
        .await
        .unwrap()
        .expect("the in-flight request gets its answer");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["title"], "finished while draining");
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_signal_readyz_says_draining_while_requests_are_served_until_the_delay_ends() {
    let delay = Duration::from_secs(2);
    let mut app = TestApp::spawn_with(Backend::Sqlite, &[("SHUTDOWN_DELAY_SECONDS", "2")])
        .await
        .unwrap();
    let user = app.sign_up(&email("delay")).await;
    let ready = call(&app, reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    let kept = reqwest::get(app.url("/healthz")).await.unwrap();
    assert!(
        kept.headers().get("connection").is_none(),
        "before the signal, connections are kept alive"
    );

    let signalled = Instant::now();
    let server = app.begin_shutdown().expect("the server task");
    let draining = loop {
        let reply = call(&app, reqwest::Method::GET, "/readyz", None, None).await;
        if reply.status == 503 {
            break reply;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "readiness still {} after the signal",
            reply.status
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        draining.body,
        json!({"status": "draining", "checks": {"database": "ok"}})
    );
    let health = call(&app, reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200, "liveness is not affected by draining");
    // Clients are told to stop reusing their connections before the shutdown closes them.
    let closing = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(
        closing
            .headers()
            .get("connection")
            .and_then(|v| v.to_str().ok()),
        Some("close"),
        "answers during the drain close their connection"
    );
    // A new connection is still accepted and served in full during the delay.
    let fresh = reqwest::Client::new();
    let created = send(
        fresh
            .post(app.url(&tasks_path(&user)))
            .header("authorization", user.bearer())
            .json(&json!({"title": "created while draining"})),
        "POST a task during the delay",
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let listed = send(
        fresh
            .get(app.url(&tasks_path(&user)))
            .header("authorization", user.bearer()),
        "GET the tasks during the delay",
    )
    .await;
    assert_eq!(listed.body[0]["title"], "created while draining");
    assert!(
        signalled.elapsed() < delay,
        "the checks above must run within the delay; they took {:?}",
        signalled.elapsed()
    );

    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server stops after the delay")
        .unwrap()
        .unwrap();
    assert!(
        signalled.elapsed() >= delay,
        "the server stopped {:?} after the signal, before its delay of {delay:?}",
        signalled.elapsed()
    );
    assert!(
        reqwest::Client::new()
            .get(app.url("/healthz"))
            .send()
            .await
            .is_err(),
        "nothing listens once the server has stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_a_stuck_request_after_the_grace_period() {
    let Some(database) = TestPostgres::fresh().await else {
        return;
    };
    let mut app = TestApp::spawn_on(&database.url, &[("SHUTDOWN_GRACE_SECONDS", "1")]).await;
    let user = app.sign_up(&email("stuck")).await;
    let id = create_task(&app, &user, "stuck").await["id"]
        .as_i64()
        .unwrap();
    let (mut locker, mut observer) = hold_row_lock(&database.url, id).await;
    let _stuck = tokio::spawn(
        app.client
            .put(app.url(&task_path(&user, id)))
            .header("authorization", user.bearer())
            .json(&json!({"title": "never"}))
            .send(),
    );
    wait_until_blocked(&mut observer).await;
    let server = app.begin_shutdown().expect("the server task");
    let stopped = tokio::time::timeout(Duration::from_secs(15), server).await;
    assert!(
        stopped.is_ok(),
        "the server must exit although a request is still stuck"
    );
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_deadline_gets_a_json_504() {
    let Some(database) = TestPostgres::fresh().await else {
        return;
    };
    let app = TestApp::spawn_on(&database.url, &[("REQUEST_TIMEOUT_SECONDS", "1")]).await;
    let user = TestUser {
        id: "deadline-user".into(),
        email: String::new(),
        token: app.mint_token("deadline-user"),
    };
    let id = create_task(&app, &user, "slow").await["id"]
        .as_i64()
        .unwrap();
    let (mut locker, _observer) = hold_row_lock(&database.url, id).await;
    let reply = call(
        &app,
        reqwest::Method::PUT,
        &task_path(&user, id),
        Some(&user),
        Some(json!({"title": "late"})),
    )
    .await;
    assert_eq!((reply.status, reply.code()), (504, "timeout"));
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    let after = call(
        &app,
        reqwest::Method::GET,
        &task_path(&user, id),
        Some(&user),
        None,
    )
    .await;
    assert_eq!(after.status, 200, "the app serves on after a timeout");
}

/// Four migrators on one database at once: each must succeed, and each migration file of
/// `dialect` (`postgres`, `sqlite`) must be recorded exactly once.
async fn four_migrators_at_once(url: &DatabaseUrl, dialect: &str) {
    let migrators: Vec<Database> = (0..4)
        .map(|_| Database::connect_lazy(url, 2).unwrap())
        .collect();
    let results = futures::future::join_all(migrators.iter().map(Database::migrate)).await;
    for (n, result) in results.iter().enumerate() {
        assert!(result.is_ok(), "migrator {n} failed: {result:?}");
    }
    let migration_files = std::fs::read_dir(format!(
        "{}/migrations/{dialect}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .count();
    let count = "SELECT count(*) FROM _sqlx_migrations WHERE success";
    let applied: i64 = match &migrators[0] {
        Database::Postgres { pool, .. } => sqlx::query_scalar(count).fetch_one(pool).await,
        Database::Sqlite { pool, .. } => sqlx::query_scalar(count).fetch_one(pool).await,
    }
    .unwrap();
    assert_eq!(
        applied,
        i64::try_from(migration_files).unwrap(),
        "each migration recorded once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrators_on_one_sqlite_file_apply_each_migration_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("todo.db").display()
    ))
    .unwrap();
    four_migrators_at_once(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrators_apply_each_migration_exactly_once() {
    let Some(database) = TestPostgres::fresh().await else {
        return;
    };
    four_migrators_at_once(&DatabaseUrl::parse(&database.url).unwrap(), "postgres").await;
    let (a, b) = tokio::join!(
        TestApp::spawn_on(&database.url, &[]),
        TestApp::spawn_on(&database.url, &[]),
    );
    assert_eq!(
        call(&a, reqwest::Method::GET, "/readyz", None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&b, reqwest::Method::GET, "/readyz", None, None)
            .await
            .status,
        200
    );
}

/// Runs the built binary with only these environment variables (and PATH).
fn backend(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BACKEND);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Waits (bounded) for a child process and returns its output.
fn finish(command: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the backend did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn the_binary_refuses_a_short_secret_with_a_clear_message() {
    let output = finish(
        &mut backend(&[], &[("BETTER_AUTH_SECRET", "too-short")]),
        Duration::from_secs(20),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("BETTER_AUTH_SECRET") && stderr.contains("32 bytes"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("too-short"),
        "the secret is never echoed: {stderr}"
    );
    let output = finish(&mut backend(&[], &[]), Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("BETTER_AUTH_SECRET: is not set"));
}

#[test]
fn the_binary_refuses_an_unsupported_database_url_without_echoing_it() {
    let env = [
        ("BETTER_AUTH_SECRET", TEST_SECRET),
        ("DATABASE_URL", "mysql://root:hunter2@db/todo"),
    ];
    let output = finish(&mut backend(&[], &env), Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("mysql"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("nested/folder/todo.db");
    let url = format!("sqlite://{}", db_path.display());
    let env = [
        ("BETTER_AUTH_SECRET", TEST_SECRET),
        ("DATABASE_URL", url.as_str()),
    ];
    let output = finish(&mut backend(&["migrate"], &env), Duration::from_secs(30));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        db_path.exists(),
        "the folder and the database file were created"
    );
    let again = finish(&mut backend(&["migrate"], &env), Duration::from_secs(30));
    assert!(again.status.success(), "migrating twice is harmless");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_0_on_a_ready_server_and_1_otherwise() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let url = app.url("/readyz");
    let ok = tokio::task::spawn_blocking(move || {
        finish(
            &mut backend(&["healthcheck", "--url", &url], &[]),
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let port = app.port.to_string();
    let by_port = tokio::task::spawn_blocking(move || {
        finish(
            &mut backend(&["healthcheck"], &[("PORT", &port)]),
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap();
    assert!(by_port.status.success(), "the default URL uses $PORT");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down_url = format!("http://127.0.0.1:{closed}/readyz");
    let down = tokio::task::spawn_blocking(move || {
        finish(
            &mut backend(&["healthcheck", "--url", &down_url], &[]),
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap();
    assert_eq!(down.status.code(), Some(1));
}

#[test]
fn the_binary_serves_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    let env = [
        ("BETTER_AUTH_SECRET", TEST_SECRET),
        ("DATABASE_URL", url.as_str()),
        ("PORT", "0"),
        ("BIND", "127.0.0.1"),
    ];
    let mut child = backend(&[], &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut address = None;
    while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(20)) {
        let entry: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("log lines are JSON ({e}): {line}"));
        if entry["message"] == "serving" {
            address = entry["address"].as_str().map(str::to_owned);
            break;
        }
    }
    let address = address.expect("the server logs the address it serves on");
    assert_eq!(
        raw_http::get(&format!("http://{address}/healthz"), None),
        200
    );
    let token = todo_testkit::mint_token_with(
        &json!({"sub": "logged-user", "exp": todo_testkit::unix_now() + 600}),
        todo_testkit::Algorithm::HS256,
        TEST_SECRET.as_bytes(),
    );
    let authorization = format!("Bearer {token}");
    let tasks = raw_http::get(
        &format!("http://{address}/api/logged-user/tasks"),
        Some(&authorization),
    );
    assert_eq!(tasks, 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a clean exit after SIGTERM: {status}");
    let mut saw_request_line = false;
    let mut saw_user = false;
    while let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(5)) {
        assert!(!line.contains(&token), "tokens never reach the log: {line}");
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
        if entry["message"] == "request" {
            saw_request_line = true;
            if entry["route"] == "/api/{user_id}/tasks" {
                assert_eq!(
                    entry["user_id"], "logged-user",
                    "the authenticated user is logged: {line}"
                );
                assert_eq!(entry["status"], 200);
                saw_user = true;
            }
            for field in ["request_id", "method", "route", "status", "latency_ms"] {
                assert!(
                    entry.get(field).is_some(),
                    "request log lacks {field}: {line}"
                );
            }
        }
    }
    assert!(saw_request_line && saw_user, "one JSON line per request");
}

mod raw_http {
    //! A blocking GET over a plain TCP socket, for tests that drive the built binary.

    /// `GET url` with HTTP/1.0 and an optional Authorization header; returns the status code.
    pub fn get(url: &str, authorization: Option<&str>) -> u16 {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n{auth}\r\n").unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_on_start_false_leaves_the_schema_to_the_migrate_job() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    let app = TestApp::spawn_on(&url, &[("MIGRATE_ON_START", "false")]).await;
    let Database::Sqlite { pool, .. } = &app.db else {
        panic!("a SQLite app")
    };
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'tasks'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(tables, 0, "no migration ran at start");
    app.db.migrate().await.unwrap();
    let user = app.sign_up(&email("later")).await;
    create_task(&app, &user, "after the migrate job").await;
}
