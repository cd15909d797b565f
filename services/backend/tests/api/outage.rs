//! A database that disappears and comes back: 503s while it is gone, recovery without a
//! restart, nothing lost.

use std::time::{Duration, Instant};

use reqwest::Method;
use todo_testkit::PrivateServer;

use crate::helpers::*;

/// Polls `/readyz` until it answers `status`, for at most `limit`.
async fn wait_for_readiness(app: &TestApp, status: u16, limit: Duration) -> Reply {
    let started = Instant::now();
    loop {
        let reply = call(app, Method::GET, "/readyz", None, None).await;
        if reply.status == status || started.elapsed() > limit {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_gives_503s_and_the_app_recovers_by_itself() {
    let Some(server) = PrivateServer::start() else {
        return;
    };
    let database = server.fresh().await;
    let app = TestApp::spawn_on(&database.url, &[]).await;
    let user = app.sign_up(&email("outage")).await;
    let task = create_task(&app, &user, "survives the outage").await;

    server.stop();

    let not_ready = wait_for_readiness(&app, 503, Duration::from_secs(20)).await;
    assert_eq!(
        not_ready.status, 503,
        "readyz while the database is down: {:?}",
        not_ready.body
    );
    assert_eq!(not_ready.body["status"], "not ready");
    let reason = not_ready.body["checks"]["database"]
        .as_str()
        .expect("the failing check is named");
    assert_ne!(reason, "ok");
    assert!(
        !reason.contains("postgres://"),
        "no database URL in the reason: {reason}"
    );

    let list = call(&app, Method::GET, &tasks_path(&user), Some(&user), None).await;
    assert_eq!(
        (list.status, list.code()),
        (503, "database_unavailable"),
        "{:?}",
        list.body
    );
    assert!(
        list.header("retry-after").is_some(),
        "503s say when to retry"
    );
    let create = call(
        &app,
        Method::POST,
        &tasks_path(&user),
        Some(&user),
        Some(serde_json::json!({"title": "x"})),
    )
    .await;
    assert_eq!(create.status, 503);
    let sign_in = call(
        &app,
        Method::POST,
        "/api/auth/sign-in",
        None,
        Some(serde_json::json!({"email": user.email, "password": "correct-horse-battery"})),
    )
    .await;
    assert_eq!(
        sign_in.status, 503,
        "sign-in cannot check the password either"
    );
    let health = call(&app, Method::GET, "/healthz", None, None).await;
    assert_eq!(
        health.status, 200,
        "liveness does not depend on the database"
    );

    server.restart();

    let ready = wait_for_readiness(&app, 200, Duration::from_secs(30)).await;
    assert_eq!(
        ready.status, 200,
        "readyz recovers without restarting the app: {:?}",
        ready.body
    );
    let list = call(&app, Method::GET, &tasks_path(&user), Some(&user), None).await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body,
        serde_json::json!([task]),
        "nothing was lost and nothing half-written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neon_style_url_connects_over_tls_despite_channel_binding_require() {
    let Some(server) = PrivateServer::start_with_tls() else {
        return;
    };
    let database = server.fresh().await;
    assert!(database.url.contains("sslmode=require"), "{}", database.url);
    let url = format!("{}&channel_binding=require", database.url);
    let app = TestApp::spawn_on(&url, &[]).await;
    let ready = call(&app, Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    let todo_backend::db::Database::Postgres { pool, .. } = &app.db else {
        panic!("a PostgreSQL app")
    };
    let over_tls: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(over_tls, "the app's connections use TLS");
    let user = app.sign_up(&email("neon")).await;
    create_task(&app, &user, "stored over TLS").await;
    // sslmode is honoured: verify-full checks the certificate, which no trusted CA signed.
    let verified = database
        .url
        .replace("sslmode=require", "sslmode=verify-full");
    let refused = todo_backend::db::Database::connect_lazy(
        &todo_config::DatabaseUrl::parse(&verified).unwrap(),
        1,
    )
    .unwrap()
    .ping()
    .await;
    assert!(
        refused.is_err(),
        "a self-signed certificate must fail verify-full"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_a_database_that_is_still_starting() {
    let Some(server) = PrivateServer::start() else {
        return;
    };
    let database = server.fresh().await;
    server.stop();
    let server = std::sync::Arc::new(server);
    let starter = std::sync::Arc::clone(&server);
    // The database comes up while the app is already trying to migrate, after its first
    // attempt has given up waiting for a connection (3 s).
    let restart = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_secs(5));
        starter.restart();
    });
    let app = TestApp::spawn_on(&database.url, &[]).await;
    restart.await.unwrap();
    let ready = call(&app, Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
}
