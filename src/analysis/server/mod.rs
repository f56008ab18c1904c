//! `vroute-analysis`: the HTTP service Argo Rollouts' `web` metric provider calls.
//!
//! Routes: `GET|POST|PUT /v1/judge` (the judgement; bearer token when configured), `/healthz` (the process
//! answers), `/readyz` (Prometheus answers a query), `/metrics` (the service's own metrics). Every answer is
//! JSON except `/metrics`. Stops accepting on SIGTERM or Ctrl-C and finishes the requests in flight.

mod handlers;
mod telemetry;
mod tls;

use super::coalesce::Coalescer;
use super::pipeline::Sources;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use handlers::State;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use telemetry::Telemetry;

/// A request body larger than this is not a parameter set.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Config {
    pub listen: SocketAddr,
    pub sources: Sources,
    /// The bearer token `/v1/judge` requires, if any.
    pub token: Option<String>,
    /// How long a judgement is reused for identical requests (zero: only while it is being computed).
    pub cache_ttl: Duration,
    pub tls: Option<Tls>,
}

pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("--token-file {path}: {problem}")]
    Token { path: String, problem: String },
    #[error("--prometheus-url: {0}")]
    Prometheus(crate::metrics::PromError),
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: SocketAddr, error: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// Serves until `shutdown` resolves, then lets the requests in flight finish.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let tls = match &config.tls {
        Some(files) => Some(tls::server_config(&files.cert, &files.key).map_err(ServeError::Tls)?),
        None => None,
    };
    let telemetry = Arc::new(Telemetry::default());
    let mut sources = config.sources;
    let hook = telemetry.clone();
    sources.on_query = Some(Arc::new(move |elapsed, ok| hook.query(elapsed, ok)));
    let state =
        Arc::new(State { sources, token: config.token, coalescer: Coalescer::new(config.cache_ttl), telemetry });
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|error| ServeError::Bind { addr: config.listen, error })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    tracing::info!(%addr, tls = tls.is_some(), cache_ttl_ms = config.cache_ttl.as_millis() as u64, "listening");
    match tls {
        Some(tls) => {
            let listener = tls::TlsListener::new(listener, tls).map_err(ServeError::Serve)?;
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        None => {
            // Small JSON answers: without TCP_NODELAY a kept-alive connection can wait 40 ms for a delayed ACK.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
    }
    .map_err(ServeError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/judge", get(handlers::judge_get).post(handlers::judge_body).put(handlers::judge_body))
        .route("/v1/flagger/{hook}", post(handlers::flagger))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = terminate => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Structured JSON logs on stdout; `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).init();
}
