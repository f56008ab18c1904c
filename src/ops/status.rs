//! `status` and `check` against a cluster: read the snapshot, build the route graph, add live traffic when
//! Prometheus is configured; and `--watch`, which does it again on every change the watch API reports.

use crate::cluster::snapshot::{self, Read};
use crate::cluster::{Cluster, watch};
use crate::error::Error;
use crate::graph::{self, Code, RouteGraph};
use crate::metrics::Prom;
use crate::metrics::status::{WINDOW, observe};
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;

pub struct StatusOptions {
    pub graph: graph::Options,
    pub all_namespaces: bool,
    pub prometheus: Option<Prom>,
}

/// Reads and builds the graph, then hands it to `view` (which projects or renders it).
pub async fn show<R>(cluster: &Cluster, opts: &StatusOptions, view: impl FnOnce(&RouteGraph) -> R) -> Result<R, Error> {
    let read = snapshot::fetch(cluster, opts.all_namespaces, &opts.graph).await?;
    let graph = with_traffic(&read, opts).await?;
    Ok(view(&graph))
}

/// Draws the graph, then again after every burst of changes, until `stop` resolves.
pub async fn watch(
    cluster: &Cluster,
    opts: &StatusOptions,
    stop: impl Future<Output = ()>,
    mut draw: impl FnMut(&RouteGraph) -> Result<(), Error>,
) -> Result<(), Error> {
    let read = snapshot::fetch(cluster, opts.all_namespaces, &opts.graph).await?;
    draw(&with_traffic(&read, opts).await?)?;
    let ns = (!opts.all_namespaces).then_some(cluster.namespace.as_str());
    let mut changes = watch::changes(cluster, ns, read.istio_version).boxed();
    tokio::pin!(stop);
    let mut dirty = false;
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            change = changes.next() => match change {
                Some(()) => dirty = true,
                None => return Ok(()),
            },
            // Debounce: one redraw for a burst of changes (a rollout step touches several objects).
            _ = tokio::time::sleep(Duration::from_millis(300)), if dirty => {
                dirty = false;
                let read = snapshot::fetch(cluster, opts.all_namespaces, &opts.graph).await?;
                draw(&with_traffic(&read, opts).await?)?;
            }
        }
    }
}

/// The graph with live traffic. A Prometheus failure does not hide the routes: it becomes a finding, and no
/// traffic figure is shown for anything.
async fn with_traffic<'s>(read: &'s Read, opts: &StatusOptions) -> Result<RouteGraph<'s>, Error> {
    let mut graph = graph::build(&read.snapshot, &opts.graph)?;
    let Some(prom) = &opts.prometheus else { return Ok(graph) };
    let mut hosts: Vec<&str> =
        graph.hosts.iter().flat_map(|h| h.versions.iter().map(|v| v.key.host.as_str())).collect();
    hosts.sort_unstable();
    hosts.dedup();
    match observe(prom, &hosts).await {
        Ok(seen) => {
            let (label, domain) = (&opts.graph.version_label, &opts.graph.domain);
            graph::traffic::attach(&mut graph, &seen.rates, &seen.edges, label, domain, WINDOW)
        }
        Err(e) => graph.findings.push(Code::PrometheusUnavailable.finding("", e.to_string())),
    }
    Ok(graph)
}
