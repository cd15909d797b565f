//! Shutdown: first a delay reported as draining while everything is still served, then the
//! graceful drain, where a request in flight when it began still gets its answer.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestFrontend, Upstream, WAIT, client};

#[tokio::test]
async fn during_the_shutdown_delay_readyz_is_503_while_requests_are_served_then_it_stops() {
    let delay = Duration::from_secs(2);
    let upstream = Upstream::spawn().await;
    let mut frontend =
        TestFrontend::spawn_with(&upstream.url, &[("SHUTDOWN_DELAY_SECONDS", "2")]).await;
    let http = client();
    let before = http.get(frontend.url("/readyz")).send().await.unwrap();
    assert_eq!(before.status(), 200);

    let signalled = Instant::now();
    let server = frontend.begin_shutdown();
    let draining = loop {
        let answer = http.get(frontend.url("/readyz")).send().await.unwrap();
        if answer.status() == 503 {
            break answer;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "readiness still {} after the signal",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        draining.json::<Value>().await.unwrap(),
        json!({"status": "draining", "checks": {}, "backend": "ok"})
    );
    let health = http.get(frontend.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "liveness is not affected by draining");
    // New connections are still accepted and served in full: the page and the proxy.
    let fresh = client();
    let page = fresh.get(frontend.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let proxied = fresh
        .put(frontend.url("/api/user-1/tasks/1"))
        .body("{\"title\":\"during the delay\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 200);
    assert_eq!(proxied.json::<Value>().await.unwrap()["method"], "PUT");
    assert!(
        signalled.elapsed() < delay,
        "the checks above must run within the delay; they took {:?}",
        signalled.elapsed()
    );

    let stopped = tokio::time::timeout(WAIT, server)
        .await
        .expect("the server did not stop after the delay")
        .unwrap();
    assert!(stopped.is_ok(), "shutdown must end cleanly: {stopped:?}");
    assert!(
        signalled.elapsed() >= delay,
        "the server stopped {:?} after the signal, before its delay of {delay:?}",
        signalled.elapsed()
    );
    assert!(
        client().get(frontend.url("/healthz")).send().await.is_err(),
        "nothing listens once the server has stopped"
    );
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_still_gets_its_answer() {
    let upstream = Upstream::spawn().await;
    let mut frontend = TestFrontend::spawn(&upstream.url).await;
    let url = frontend.url("/api/held");
    let in_flight = tokio::spawn(async move { client().get(url).send().await });

    tokio::time::timeout(WAIT, upstream.held_arrived.notified())
        .await
        .expect("the held request never reached the backend");

    let health = frontend.url("/healthz");
    let server = frontend.begin_shutdown();
    // Once draining, the frontend accepts no new connections: wait for that before releasing.
    let draining = tokio::time::timeout(WAIT, async {
        while client().get(&health).send().await.is_ok() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    draining
        .await
        .expect("the frontend kept accepting connections after the shutdown signal");
    upstream.release_held.notify_one();
    let answer = tokio::time::timeout(WAIT, in_flight)
        .await
        .expect("the held request never finished")
        .unwrap()
        .unwrap();
    assert_eq!(
        answer.status(),
        200,
        "an in-flight request must finish during the drain"
    );
    assert_eq!(answer.text().await.unwrap(), "released");
    let stopped = tokio::time::timeout(WAIT, server)
        .await
        .expect("the server did not stop after the drain")
        .unwrap();
    assert!(stopped.is_ok(), "shutdown must end cleanly: {stopped:?}");
}
