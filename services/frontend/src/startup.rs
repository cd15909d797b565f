//! Building and running the server: bind first (so port 0 works and the port is known), serve
//! until SIGTERM/SIGINT, report not ready while serving on for `SHUTDOWN_DELAY_SECONDS`, then
//! give in-flight requests `SHUTDOWN_GRACE_SECONDS` to finish.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use todo_config::FrontendConfig;
use tokio::net::TcpListener;

use crate::{
    health, proxy, routes,
    shutdown::{self, Draining},
    state::AppState,
};

/// How often `backend_up` is refreshed in the background.
const BACKEND_PROBE_INTERVAL: Duration = Duration::from_secs(15);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {address} (is the port taken? set PORT or BIND): {source}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP client to the backend cannot be built: {0}")]
    Client(#[from] reqwest::Error),
    #[error(transparent)]
    Metrics(#[from] todo_service_kit::metrics::InstallError),
    #[error("the server stopped: {0}")]
    Serve(#[source] std::io::Error),
}

/// A bound, ready-to-run frontend.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
}

impl Application {
    pub async fn build(config: FrontendConfig) -> Result<Self, StartupError> {
        todo_service_kit::tls::install_provider();
        let metrics = crate::observability::install_metrics()?;
        let address = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| StartupError::Bind { address, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();
        let client = proxy::backend_client(config.proxy_timeout)?;
        let fresh_client = proxy::fresh_connection_client(config.proxy_timeout)?;
        Ok(Self {
            listener,
            port,
            state: AppState {
                config: Arc::new(config),
                client,
                fresh_client,
                draining: Draining::default(),
                metrics,
            },
        })
    }

    /// The port actually bound (useful with `PORT=0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then drains.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.run_until(shutdown::signal()).await
    }

    /// Serves until `trigger` completes; then answers `/readyz` with 503 while still serving
    /// everything for the shutdown delay; then stops accepting connections and lets in-flight
    /// requests finish within the grace period; whatever is still running after it is dropped.
    pub async fn run_until(
        self,
        trigger: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let config = &self.state.config;
        let (delay, grace) = (config.shutdown_delay, config.shutdown_grace);
        let draining = self.state.draining.clone();
        let probe = health::spawn_backend_probe(self.state.clone(), BACKEND_PROBE_INTERVAL);
        tracing::info!(port = self.port, backend = %self.state.config.backend_url, "frontend listening");

        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown::drain_after(trigger, &draining, delay).await;
            tracing::info!(
                grace_seconds = grace.as_secs(),
                "shutting down: draining in-flight requests"
            );
            let _ = stopping_tx.send(());
        };
        let app = routes::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, app)
            .with_graceful_shutdown(signal)
            .into_future();
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            served = server => served.map_err(StartupError::Serve),
            () = deadline => {
                tracing::warn!("grace period over: dropping requests still in flight");
                Ok(())
            }
        };
        probe.abort();
        tracing::info!("frontend stopped");
        result
    }
}
