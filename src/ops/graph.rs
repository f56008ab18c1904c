//! `graph` and the dashboard against a cluster: read the snapshot, build the route graph, ask Prometheus for
//! the calls over the window, build the call graph; live, do it again after every burst of changes the watch
//! API reports and on every refresh interval (traffic moves without any object changing), one read and one
//! Prometheus round trip each time however many views are drawn from it.

use super::status::{StatusOptions, changes_once_listed, redraw_on_changes};
use crate::calls::{self, CallGraph, Telemetry};
use crate::cluster::Cluster;
use crate::cluster::snapshot;
use crate::error::Error;
use crate::graph::{self, RouteGraph, Scope};
use crate::istio::host;
use crate::metrics::calls::{Calls, observe};
use std::future::Future;
use std::time::Duration;

pub struct GraphOptions {
    /// The scope, the model's options and Prometheus (its `telemetry` is not used: both reporters are read).
    pub status: StatusOptions,
    /// How far back the calls are counted.
    pub window: Duration,
}

/// Why traffic is unknown when no Prometheus was given.
pub const NO_PROMETHEUS: &str = "no Prometheus given (--prometheus-url or --prometheus-service)";

/// One call graph, handed to `view` with the route graph it was built from (the same snapshot).
pub async fn show<R>(
    cluster: &Cluster,
    opts: &GraphOptions,
    view: impl FnOnce(&RouteGraph, &CallGraph) -> R,
) -> Result<R, Error> {
    let status = &opts.status;
    let (domain, label) = (status.graph.domain.as_str(), status.graph.version_label.as_str());
    // A namespace's or the mesh's calls do not depend on the cluster's objects: asked while the cluster is
    // read. One service's need its workload's app, from the snapshot, so they are asked after it.
    let early = async {
        let asked = match &status.graph.scope {
            Scope::All => Calls::all(),
            Scope::Namespace(ns) => Calls::namespace(ns),
            Scope::Host { .. } => return None,
        };
        Some(observed(status.prometheus.as_ref()?, &asked, opts.window).await)
    };
    let (read, early) = tokio::join!(snapshot::fetch(cluster, status.all_namespaces, &status.graph), early);
    let read = read?;
    let routes = graph::build(&read.snapshot, &status.graph)?;
    let apps = calls::service_apps(&read.snapshot, domain);
    let telemetry = match (early, &status.prometheus, &status.graph.scope) {
        (Some(seen), ..) => seen,
        (None, Some(prom), Scope::Host { host, .. }) => {
            let ns = host::service_of(host, domain).map(|(_, ns)| ns).unwrap_or_else(|| cluster.namespace.clone());
            observed(prom, &Calls::service(host, &ns, apps.get(host).map(String::as_str)), opts.window).await
        }
        (None, ..) => Telemetry::Unknown(NO_PROMETHEUS.into()),
    };
    // One service's calls are drawn among its namespace's routes and pods: what it calls, and what calls it,
    // with the versions their own routes allow (its own route graph knows only the service).
    let (focus, around) = match &status.graph.scope {
        Scope::Host { host, .. } => {
            let ns = routes.host(host).map(|h| h.namespace.clone()).unwrap_or_else(|| cluster.namespace.clone());
            let opts = graph::Options { scope: Scope::Namespace(ns), ..status.graph.clone() };
            // A Service no route names is no host of the namespace's graph: then its own graph stands.
            let around = Some(graph::build(&read.snapshot, &opts)?).filter(|g| g.host(host).is_some());
            (Some(host.as_str()), around)
        }
        _ => (None, None),
    };
    let calls = calls::build(&calls::Input {
        routes: around.as_ref().unwrap_or(&routes),
        telemetry: &telemetry,
        apps: &apps,
        version_label: label,
        domain,
        focus,
    });
    Ok(view(&routes, &calls))
}

/// The calls `asked` over the window; an unreachable Prometheus makes traffic unknown, with the reason (the
/// routes are still drawn: what is unknown is said, never drawn as "no traffic").
async fn observed(prom: &crate::metrics::Prom, asked: &Calls, window: Duration) -> Telemetry {
    let seconds = window.as_secs().max(1);
    match observe(prom, asked, seconds).await {
        Ok(calls) => {
            Telemetry::Observed { window: crate::duration::format(window), window_seconds: seconds as f64, calls }
        }
        Err(e) => Telemetry::Unknown(e.to_string()),
    }
}

/// Draws the call graph (with its route graph), then again after every burst of changes and every
/// `interval`, until `stop` resolves. A failed read is handed to `draw` too: it decides whether that ends the
/// loop (`graph --watch` exits with it) or is shown until the next read (the dashboard).
pub async fn live(
    cluster: &Cluster,
    opts: &GraphOptions,
    interval: Duration,
    stop: impl Future<Output = ()>,
    mut draw: impl FnMut(Result<(&RouteGraph, &CallGraph), Error>) -> Result<(), Error>,
) -> Result<(), Error> {
    tokio::pin!(stop);
    let Some(changed) = changes_once_listed(cluster, &opts.status, stop.as_mut()).await? else { return Ok(()) };
    let mut once = async || match show(cluster, opts, |routes, calls| draw(Ok((routes, calls)))).await {
        Ok(drawn) => drawn,
        Err(e) => draw(Err(e)),
    };
    once().await?;
    // The interval's ticks are changes too: the same debounce, so a tick during a burst is one redraw.
    let ticks = futures::stream::unfold(
        tokio::time::interval_at(tokio::time::Instant::now() + interval, interval),
        |mut i| async move {
            i.tick().await;
            Some(((), i))
        },
    );
    let both = futures::stream::select(changed, ticks);
    redraw_on_changes(both, stop, once).await
}
