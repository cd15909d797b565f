//! Stopping without losing a request. On SIGTERM or SIGINT the server first reports not ready
//! (`/readyz` answers 503 `draining`) and keeps serving everything for `SHUTDOWN_DELAY_SECONDS`,
//! so Kubernetes takes the pod out of its Services while requests still find it; only then does
//! the graceful shutdown begin. The image has no shell for a `preStop` sleep, and clusters
//! before 1.29 have no native sleep action, so the server waits itself.
//!
//! Both services use it: the backend and the frontend drain the same way.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// Set once the shutdown signal has arrived; `/readyz` reads it. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Middleware: while the server drains, every answer carries `Connection: close`. Clients (the
/// frontend's pool to the backend, browsers, load balancers) then stop reusing their kept-alive
/// connections before the graceful shutdown closes them; without it a request sent on an idle
/// connection just as the server closes it is lost in flight.
pub async fn close_connections_while_draining(
    axum::extract::State(draining): axum::extract::State<Draining>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if draining.is_draining() {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Waits for `signal`, marks the server draining, and keeps it serving for `delay`; completes
/// when the graceful shutdown should begin.
pub async fn drain_after(signal: impl Future<Output = ()>, draining: &Draining, delay: Duration) {
    signal.await;
    draining.start();
    tracing::info!(
        delay_seconds = delay.as_secs(),
        "shutdown signal received; /readyz answers 503 (draining) while requests are still served"
    );
    tokio::time::sleep(delay).await;
}

/// Completes on SIGTERM (Kubernetes, Docker) or SIGINT (Ctrl-C).
pub async fn signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn draining_starts_at_the_signal_and_the_shutdown_waits_for_the_delay() {
        let delay = Duration::from_millis(300);
        let draining = Draining::default();
        let (send, signal) = tokio::sync::oneshot::channel::<()>();
        let drain = tokio::spawn({
            let draining = draining.clone();
            async move {
                let signal = async move {
                    let _ = signal.await;
                };
                drain_after(signal, &draining, delay).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!draining.is_draining(), "not before the signal");
        let signalled = tokio::time::Instant::now();
        let _ = send.send(());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(draining.is_draining(), "draining from the signal on");
        assert!(!drain.is_finished(), "the delay is not over yet");
        tokio::time::timeout(Duration::from_secs(5), drain)
            .await
            .expect("the delay ends")
            .expect("the task does not panic");
        assert!(signalled.elapsed() >= delay);
    }
}
