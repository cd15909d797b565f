//! Graceful shutdown: a request in flight when the signal comes still gets its answer.

use crate::helpers::{TestFrontend, Upstream, WAIT, client};

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
