//! The dashboard's HTTP side: the page and its two assets, the state as JSON, and the server-sent events that
//! push each new state. Nothing here reads the cluster: every request is answered from the latest state the
//! loop published.

use super::Latest;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/app.css");

/// Scripts and styles from this server only (no inline script: a name in the cluster can never run as code),
/// data only from it, and the page never framed by another.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                      connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(Clone)]
struct Shared {
    latest: Latest,
    /// The `Host` values this server answers to: `127.0.0.1:PORT` and `localhost:PORT`.
    hosts: Arc<[String]>,
}

pub(super) fn router(latest: Latest, port: u16) -> Router {
    let hosts = Arc::from([format!("127.0.0.1:{port}"), format!("localhost:{port}")]);
    let shared = Shared { latest, hosts };
    Router::new()
        .route("/", get(|| async { asset(PAGE, "text/html; charset=utf-8") }))
        .route("/app.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/app.css", get(|| async { asset(STYLE, "text/css; charset=utf-8") }))
        .route("/api/state", get(state))
        .route("/events", get(events))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: the dashboard serves /, /api/state and /events\n") })
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Refuses a request for any other host (DNS rebinding), and adds the headers every answer carries.
async fn guard(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !shared.hosts.iter().any(|h| h == host) {
        let message = format!("Host {host:?} is not this dashboard: open http://{}/\n", shared.hosts[0]);
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// The latest state; 503 until the first read is done.
async fn state(State(shared): State<Shared>) -> Response {
    let latest = shared.latest.borrow().clone();
    match latest {
        Some(text) => ([(header::CONTENT_TYPE, "application/json")], text.to_string()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1"), (header::CONTENT_TYPE, "application/json")],
            "{\"error\":\"the first read of the cluster is not done yet\"}",
        )
            .into_response(),
    }
}

/// A `state` event with the latest state, then one per new state, until the dashboard stops.
async fn events(State(shared): State<Shared>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut latest = shared.latest.clone();
    latest.mark_changed();
    let stream = futures::stream::unfold(latest, |mut latest| async move {
        loop {
            latest.changed().await.ok()?;
            let text = latest.borrow_and_update().clone();
            if let Some(text) = text {
                return Some((Ok(Event::default().event("state").data(&*text)), latest));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
