//! `kubectl vroute dashboard`: a local web page of the call graph, each service's routes and versions, the
//! Rollouts and the findings, kept live over server-sent events.
//!
//! One loop reads the cluster and Prometheus ([`crate::ops::graph::live`]: one watch, a read after each burst
//! of changes and one Prometheus round trip per refresh interval) and serializes the state once; every open
//! page is handed that same text. Twenty tabs cost the cluster what one does. Served on 127.0.0.1 only, with
//! every asset compiled in (works offline), and only to requests that name it as their host (a web page
//! elsewhere cannot reach it by rebinding a DNS name to 127.0.0.1).

mod http;

use crate::cluster::Cluster;
use crate::error::Error;
use crate::ops::graph::{self, GraphOptions};
use crate::render;
use crate::views;
use crate::views::dashboard::{State, Views};
use std::future::{Future, IntoFuture};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

pub struct Config {
    /// 0: any free port (the address is handed to `ready`).
    pub port: u16,
    /// How often calls are read again from Prometheus.
    pub interval: Duration,
    /// What the page says it shows (`namespace demo`).
    pub scope: String,
}

/// The latest state document, as sent; `None` before the first read.
pub(crate) type Latest = watch::Receiver<Option<Arc<str>>>;

/// Serves the dashboard until `stop` resolves; `ready` is called with the address once it accepts connections.
pub async fn serve(
    cluster: &Cluster,
    opts: &GraphOptions,
    config: Config,
    stop: impl Future<Output = ()>,
    ready: impl FnOnce(SocketAddr) -> Result<(), Error>,
) -> Result<(), Error> {
    let asked = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
    let listener = tokio::net::TcpListener::bind(asked).await.map_err(|error| Error::Listen { addr: asked, error })?;
    let addr = listener.local_addr().map_err(Error::Io)?;
    let (publish, latest) = watch::channel(None);
    let (ended, end) = oneshot::channel::<()>();
    let app = http::router(latest, addr.port());
    // Open pages hold their event streams until the loop ends and drops `publish`: then they close, and the
    // server's graceful stop has nothing left to wait for.
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = end.await;
    });
    ready(addr)?;
    let interval = crate::duration::format(config.interval);
    let mut refresh = Refresh { generation: 0, views: None, publish };
    let looping = async {
        let looped = graph::live(cluster, opts, config.interval, stop, |read| {
            refresh.publish(
                read.map(|(routes, calls)| (views::status::project(routes), calls)),
                &config.scope,
                &interval,
            )
        })
        .await;
        drop(refresh);
        let _ = ended.send(());
        looped
    };
    let (served, looped) = tokio::join!(server.into_future(), looping);
    looped?;
    served.map_err(Error::Io)
}

/// The loop's side: the last good views, and the channel every page reads.
struct Refresh {
    generation: u64,
    views: Option<Views>,
    publish: watch::Sender<Option<Arc<str>>>,
}

impl Refresh {
    /// Sends the state of one read to every page. A failed read is shown with the views of the last good one:
    /// the page says what went wrong and keeps what it knew, marked as not current.
    fn publish(
        &mut self,
        read: Result<(views::status::StatusReport, &crate::calls::CallGraph), Error>,
        scope: &str,
        interval: &str,
    ) -> Result<(), Error> {
        self.generation += 1;
        let error = match read {
            Ok((status, calls)) => {
                let views = Views::of(&views::calls::project(calls), &status, &render::calls_svg::svg(calls));
                self.views = Some(views.map_err(|e| render::RenderError(e.to_string()))?);
                None
            }
            Err(e) => Some(e.to_string()),
        };
        let read_at = jiff::Timestamp::now().to_string();
        let state = State::new(self.generation, &read_at, scope, interval).with(self.views.as_ref(), error.as_deref());
        let text = serde_json::to_string(&state).map_err(|e| render::RenderError(e.to_string()))?;
        tracing::debug!(generation = self.generation, pages = self.publish.receiver_count() - 1, "dashboard read");
        self.publish.send_replace(Some(text.into()));
        Ok(())
    }
}
