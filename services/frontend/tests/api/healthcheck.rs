//! `frontend healthcheck`: the Docker HEALTHCHECK, run as the real binary.

use tokio::process::Command;

use crate::helpers::{TestFrontend, Upstream, WAIT, closed_port_url};

async fn healthcheck(url: &str) -> std::process::Output {
    let run = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args(["healthcheck", "--url", url])
        .output();
    tokio::time::timeout(WAIT, run)
        .await
        .expect("the healthcheck must end by itself")
        .unwrap()
}

#[tokio::test]
async fn the_healthcheck_exits_0_when_the_frontend_is_ready() {
    let upstream = Upstream::spawn().await;
    let frontend = TestFrontend::spawn(&upstream.url).await;
    let output = healthcheck(&frontend.url("/readyz")).await;
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_healthcheck_exits_1_and_says_why_when_nothing_answers_or_not_ready() {
    let nothing = healthcheck(&format!("{}/readyz", closed_port_url().await)).await;
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&nothing.stderr).contains("healthcheck failed"),
        "{nothing:?}"
    );

    let upstream = Upstream::spawn().await;
    let mut draining =
        TestFrontend::spawn_with(&upstream.url, &[("SHUTDOWN_DELAY_SECONDS", "10")]).await;
    let readyz = draining.url("/readyz");
    let _server = draining.begin_shutdown();
    let not_ready = healthcheck(&readyz).await;
    assert_eq!(
        not_ready.status.code(),
        Some(1),
        "a 503 from /readyz (draining) must fail the check"
    );
    assert!(
        String::from_utf8_lossy(&not_ready.stderr).contains("503"),
        "{not_ready:?}"
    );
}
