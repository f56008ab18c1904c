//! `status` and `check` against a cluster: read the snapshot, build the route graph, add live traffic when
//! Prometheus is configured; and `--watch`, which does it again on every change the watch API reports.

use crate::cluster::Cluster;
use crate::cluster::snapshot::{self, Read};
use crate::cluster::watch::{self, Change};
use crate::error::Error;
use crate::graph::{self, Code, RouteGraph};
use crate::metrics::Prom;
use crate::metrics::status::{Hosts, Telemetry, WINDOW, observe};
use futures::{Stream, StreamExt};
use std::future::Future;
use std::time::Duration;

pub struct StatusOptions {
    pub graph: graph::Options,
    pub all_namespaces: bool,
    pub prometheus: Option<Prom>,
    pub telemetry: Telemetry,
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
    tokio::pin!(stop);
    let Some(changes) = changes_once_listed(cluster, opts, stop.as_mut()).await? else { return Ok(()) };
    {
        let read = snapshot::fetch(cluster, opts.all_namespaces, &opts.graph).await?;
        draw(&with_traffic(&read, opts).await?)?;
    }
    redraw_on_changes(changes, stop, async || {
        let read = snapshot::fetch(cluster, opts.all_namespaces, &opts.graph).await?;
        draw(&with_traffic(&read, opts).await?)
    })
    .await
}

/// The changes to what `opts` views, once every watch has made its first listing (`None`: `stop` came
/// first). A view read after this sees every later change; one read between the two would miss it.
pub(super) async fn changes_once_listed(
    cluster: &Cluster,
    opts: &StatusOptions,
    stop: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<Option<futures::stream::BoxStream<'static, ()>>, Error> {
    // Only the served Istio version is kept of this first read: a watch holds no snapshot between redraws
    // (each redraw reads its own and drops it), so its memory stays that of one view however long it runs.
    let istio_version = snapshot::fetch(cluster, opts.all_namespaces, &opts.graph).await?.istio_version;
    let ns = (!opts.all_namespaces).then_some(cluster.namespace.as_str());
    let mut changes = watch::changes(cluster, ns, istio_version).boxed();
    tokio::select! {
        _ = stop => return Ok(None),
        _ = async { while changes.next().await.is_some_and(|c| c != Change::Ready) {} } => {}
    }
    Ok(Some(changes.filter_map(|c| std::future::ready((c == Change::Changed).then_some(()))).boxed()))
}

/// How long changes must pause before a redraw: one redraw for a burst (a rollout step touches several
/// objects at once).
const QUIET: Duration = Duration::from_millis(300);

/// Calls `redraw` once after each burst of changes, until `stop` resolves or the changes end.
pub async fn redraw_on_changes(
    changes: impl Stream<Item = ()>,
    stop: impl Future<Output = ()>,
    mut redraw: impl AsyncFnMut() -> Result<(), Error>,
) -> Result<(), Error> {
    tokio::pin!(stop);
    tokio::pin!(changes);
    let mut dirty = false;
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            change = changes.next() => match change {
                Some(()) => dirty = true,
                None => return Ok(()),
            },
            _ = tokio::time::sleep(QUIET), if dirty => {
                dirty = false;
                redraw().await?;
            }
        }
    }
}

/// The graph with live traffic. A Prometheus failure does not hide the routes: it becomes a finding, and no
/// traffic figure is shown for anything.
async fn with_traffic<'s>(read: &'s Read, opts: &StatusOptions) -> Result<RouteGraph<'s>, Error> {
    let mut graph = graph::build(&read.snapshot, &opts.graph)?;
    let Some(prom) = &opts.prometheus else { return Ok(graph) };
    let hosts = |waypoint: bool| {
        let versions =
            graph.hosts.iter().flat_map(|h| &h.versions).filter(|v| opts.telemetry.waypoint(v.waypoint) == waypoint);
        let mut hosts: Vec<&str> = versions.map(|v| v.key.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    };
    let (sidecar, waypoint) = (hosts(false), hosts(true));
    match observe(prom, &Hosts { sidecar: &sidecar, waypoint: &waypoint }).await {
        Ok(seen) => {
            let (label, domain) = (&opts.graph.version_label, &opts.graph.domain);
            graph::traffic::attach(&mut graph, &seen.rates, &seen.edges, label, domain, WINDOW)
        }
        Err(e) => graph.findings.push(Code::PrometheusUnavailable.finding("", e.to_string())),
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc;
    use std::cell::Cell;

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_changes_is_one_redraw_and_the_loop_ends_with_its_stream() {
        let (tx, rx) = mpsc::unbounded();
        let redraws = Cell::new(0);
        let changes = async {
            for _ in 0..3 {
                tx.unbounded_send(()).unwrap();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(redraws.get(), 1, "three changes at once, one redraw");
            tx.unbounded_send(()).unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(redraws.get(), 2);
            drop(tx);
        };
        let looping = redraw_on_changes(rx, std::future::pending(), async || {
            redraws.set(redraws.get() + 1);
            Ok(())
        });
        let (ended, ()) = tokio::join!(looping, changes);
        assert!(ended.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_the_loop_before_any_change() {
        let ended = redraw_on_changes(futures::stream::pending(), async {}, async || panic!("no redraw")).await;
        assert!(ended.is_ok());
    }
}
