//! Building the application (listener first, so port 0 works) and serving it until a shutdown
//! signal, then a delay reported as draining, then a bounded drain of in-flight requests.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use todo_config::BackendConfig;
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};

use crate::{
    AppState,
    auth::{Authenticator, throttle::SignInThrottle},
    db::Database,
    error::ApiError,
    observability, openapi,
    routes::ops::ApiDocument,
    shutdown::{self, Draining},
};

/// How long start-up waits for an unreachable database before giving up on migrations.
pub const MIGRATION_WAIT: Duration = Duration::from_secs(30);

/// How long start-up waits for another backend to let go of the SQLite file: a replaced pod
/// drains for up to `terminationGracePeriodSeconds` (45 s by default) while the new one starts.
pub const SQLITE_OWNER_WAIT: Duration = Duration::from_secs(50);

/// A built application: bound to its port, database ready, not yet serving.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
}

impl Application {
    /// Binds the listener, opens the database pool and (unless `MIGRATE_ON_START=false`)
    /// applies pending migrations.
    pub async fn build(config: BackendConfig) -> anyhow::Result<Self> {
        todo_service_kit::tls::install_provider();
        let metrics = observability::install_metrics()?;
        let listener = TcpListener::bind((config.bind, config.port))
            .await
            .with_context(|| format!("binding {}:{}", config.bind, config.port))?;
        let address = listener.local_addr().context("reading the bound address")?;
        let db = Database::connect_lazy(&config.database, config.db_max_connections)
            .with_context(|| format!("opening the database ({})", config.database.describe()))?
            .cache_listings(
                &config.database,
                config.listing_cache_bytes,
                SQLITE_OWNER_WAIT,
            )
            .await
            .context("keeping rendered task listings")?;
        if config.migrate_on_start {
            db.migrate_waiting(MIGRATION_WAIT).await.with_context(|| {
                format!("applying migrations to {}", config.database.describe())
            })?;
        }
        let state = AppState {
            auth: Arc::new(Authenticator::new(&config)?),
            config: Arc::new(config),
            db,
            sign_in_throttle: Arc::new(SignInThrottle::default()),
            metrics,
            draining: Draining::default(),
        };
        Ok(Self {
            listener,
            address,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or SIGINT, then drains (see [`Application::run_until`]).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown::signal()).await
    }

    /// Serves until `trigger` completes; then answers `/readyz` with 503 while still serving
    /// everything for `SHUTDOWN_DELAY_SECONDS`; then stops accepting connections and lets
    /// in-flight requests finish for at most `SHUTDOWN_GRACE_SECONDS`.
    pub async fn run_until(
        self,
        trigger: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            address,
            state,
        } = self;
        let (delay, grace) = (state.config.shutdown_delay, state.config.shutdown_grace);
        let draining = state.draining.clone();
        let db = state.db.clone();
        let monitor = observability::spawn_monitor(db.clone(), state.metrics);
        tracing::info!(%address, database = %state.config.database.describe(), "serving");

        let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown::drain_after(trigger, &draining, delay).await;
            tracing::info!(
                grace_seconds = grace.as_secs(),
                "shutting down; draining in-flight requests"
            );
            let _ = stopping_tx.send(true);
        };
        let server = axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal);
        let deadline = async move {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            served = server.into_future() => served.context("serving HTTP"),
            () = deadline => {
                tracing::warn!("requests still in flight after the grace period; exiting anyway");
                Ok(())
            }
        };
        monitor.abort();
        let _ = tokio::time::timeout(Duration::from_secs(2), db.close()).await;
        tracing::info!("stopped");
        result
    }
}

/// The whole HTTP application over `state`: routes, fallbacks and middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit_bytes;
    let timeout = state.config.request_timeout;
    let draining = state.draining.clone();
    let (documented, document) = openapi::routes();
    Router::new()
        .merge(documented)
        .merge(crate::mcp::router(state.clone()))
        .layer(Extension(ApiDocument::new(document)))
        .route_layer(middleware::from_fn(observability::record_matched_route))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(timeout, enforce_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(observability::track_requests))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn_with_state(
            draining,
            shutdown::close_connections_while_draining,
        ))
        .with_state(state)
}

async fn unknown_route(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.uri().path()
    ))
}

/// Answers 504 (JSON) when a request takes longer than `REQUEST_TIMEOUT_SECONDS`.
async fn enforce_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit).into_response(),
    }
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    ApiError::internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::{
        body::Body,
        http::{Request as HttpRequest, StatusCode},
        routing::get,
    };
    use http_body_util::BodyExt;
    use todo_config::MapEnv;
    use tower::ServiceExt;

    async fn state(extra: &[(&str, &str)]) -> AppState {
        let mut env = MapEnv::new([
            (
                "BETTER_AUTH_SECRET",
                "router-test-secret-router-test-secret",
            ),
            ("DATABASE_URL", "sqlite::memory:"),
        ]);
        for (name, value) in extra {
            env.0.insert((*name).to_owned(), (*value).to_owned());
        }
        let config = BackendConfig::from_env(&env).unwrap();
        let db = Database::connect_lazy(&config.database, 1).unwrap();
        db.migrate().await.unwrap();
        AppState {
            auth: Arc::new(Authenticator::new(&config).unwrap()),
            config: Arc::new(config),
            db,
            sign_in_throttle: Arc::new(SignInThrottle::default()),
            metrics: observability::install_metrics().unwrap(),
            draining: Draining::default(),
        }
    }

    async fn json_of(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn unknown_routes_and_methods_are_json_errors_with_a_request_id() {
        let app = router(state(&[]).await);
        let missing = app
            .clone()
            .oneshot(HttpRequest::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.headers().contains_key("x-request-id"));
        assert_eq!(json_of(missing).await["code"], "not_found");
        let wrong = app
            .oneshot(HttpRequest::post("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(json_of(wrong).await["code"], "method_not_allowed");
    }

    #[tokio::test]
    async fn a_body_over_the_configured_limit_is_a_json_413() {
        let app = router(state(&[("BODY_LIMIT_BYTES", "64")]).await);
        let token = app_token("u1");
        let request = HttpRequest::post("/api/u1/tasks")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(format!(
                "{{\"title\": \"{}\"}}",
                "x".repeat(100)
            )))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = json_of(response).await;
        assert_eq!(body["code"], "payload_too_large");
        assert!(
            body["detail"].as_str().unwrap().contains("64 bytes"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn the_deadline_turns_a_slow_handler_into_a_json_504() {
        let slow = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "too late"
                }),
            )
            .layer(middleware::from_fn_with_state(
                Duration::from_secs(1),
                enforce_timeout,
            ));
        let response = slow
            .oneshot(HttpRequest::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(json_of(response).await["code"], "timeout");
    }

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_500_that_reveals_nothing() {
        let panicky = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("secret internals");
                    }
                    "unreachable"
                }),
            )
            .layer(CatchPanicLayer::custom(panic_response));
        let response = panicky
            .oneshot(HttpRequest::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = json_of(response).await;
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("secret internals"), "{body}");
    }

    fn app_token(user: &str) -> String {
        let config = BackendConfig::from_env(&MapEnv::new([(
            "BETTER_AUTH_SECRET",
            "router-test-secret-router-test-secret",
        )]))
        .unwrap();
        Authenticator::new(&config)
            .unwrap()
            .issue(user, None, None)
            .unwrap()
    }
}
