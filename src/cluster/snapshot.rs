//! Reads everything the route graph needs in one round of concurrent list calls (no per-object requests),
//! plus, when routes lead to other namespaces (a host-level split, a service named in another namespace), a
//! second round for the Services and Pods of exactly those namespaces. Each item is read on its own: what
//! cannot be read is kept as [`Unreadable`], never dropped.
//!
//! VirtualServices, DestinationRules and Rollouts are listed cluster-wide when allowed: one in any namespace may
//! route to, set subsets for, or manage the routes of a host here (gateway routes usually live in istio-system).
//! Without that right the namespace's are listed, and the snapshot records what is missing ([`PartialListing`]).

use super::resources::{self, GATEWAYS, HTTP_ROUTES, ISTIO_VERSIONS, NAMESPACES, PODS, REFERENCE_GRANTS, ROLLOUTS};
use super::resources::{Res, SERVICES};
use super::resources::{list_fold, list_read, list_where};
use super::{Cluster, ClusterError};
use crate::graph::{self, Options, Scope};
use crate::istio::host;
use crate::objects::k8s::{Pod, PodTally};
use crate::objects::read::{Mentions, Readable};
use crate::objects::{Listable, Listed, PartialListing, Shortfall, Snapshot, Unreadable};
use futures::future::try_join_all;

/// A snapshot, and which Istio API version served it (a watch must watch the same one).
pub struct Read {
    pub snapshot: Snapshot,
    pub istio_version: &'static str,
}

pub async fn fetch(cluster: &Cluster, all_namespaces: bool, opts: &Options) -> Result<Read, ClusterError> {
    let ns = (!all_namespaces).then_some(cluster.namespace.as_str());
    let Some(mut keep) = concerning(opts, ns) else { return fetch_where(cluster, ns, opts, None).await };
    // A namespace's view reads of the cluster-wide lists only what names its namespace. When its hosts lead to
    // other namespaces (a host of another namespace routed from here), what names those is read too: the
    // lists are read again with them (once more at most, and only for such routes), so that every
    // VirtualService claiming a shown host is seen, whichever namespace it is in.
    let read = fetch_where(cluster, ns, opts, Some(&keep)).await?;
    let wider: Vec<String> =
        graph::needed_namespaces(&read.snapshot, opts).into_iter().filter(|n| !keep.0.contains(n)).collect();
    if wider.is_empty() {
        return Ok(read);
    }
    keep.0.extend(wider);
    fetch_where(cluster, ns, opts, Some(&keep)).await
}

/// The words an object must contain to concern a namespace's view ([`Mentions`]): its namespace, or the
/// namespace of the one Service host it shows. `None`: every object may (all namespaces, a gateway host).
fn concerning(opts: &Options, ns: Option<&str>) -> Option<Mentions> {
    ns?;
    match &opts.scope {
        Scope::Namespace(n) => Some(Mentions(vec![n.clone()])),
        Scope::Host { host, .. } => host::service_of(host, &opts.domain).map(|(_, n)| Mentions(vec![n])),
        Scope::All => None,
    }
}

async fn fetch_where(
    cluster: &Cluster,
    ns: Option<&str>,
    opts: &Options,
    keep: Option<&Mentions>,
) -> Result<Read, ClusterError> {
    let (vs, dr, services, pod_list, rollouts, routes, gateways, grants, namespaces) = tokio::join!(
        istio_list(cluster, resources::virtual_services, Listable::VirtualServices, ns, keep),
        // Not filtered: the subsets of a destination in any namespace are needed, and which ones is known only
        // once the routes are read.
        istio_list(cluster, resources::destination_rules, Listable::DestinationRules, ns, None),
        list_read(cluster, SERVICES, ns),
        pods(cluster, ns),
        optional_list(cluster, ROLLOUTS, Listable::Rollouts, ns, keep),
        optional_list(cluster, HTTP_ROUTES, Listable::HttpRoutes, ns, keep),
        // Few, and what they name is not the routed namespace (a Gateway's listeners, a grant's targets).
        optional_list(cluster, GATEWAYS, Listable::Gateways, ns, None),
        optional_list(cluster, REFERENCE_GRANTS, Listable::ReferenceGrants, ns, None),
        list_read(cluster, NAMESPACES, None),
    );
    // Errors are reported in this fixed order (not whichever request failed first), so the same missing
    // permission always gives the same message.
    let (vs, dr, services, pod_groups, rollouts) = (vs?, dr?, services?, pod_list?, rollouts?);
    let (routes, gateways, grants) = (routes?, gateways?, grants?);
    // Namespace labels only say where waypoints serve: without the right to list namespaces, Service labels
    // are all that is known (the README says so), which is no reason to fail the view.
    let namespaces = match namespaces {
        Ok((items, _)) => items,
        Err(ClusterError::Forbidden { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut snap = Snapshot::default();
    let istio_version = vs.version;
    snap.virtual_services = vs.listing.items;
    snap.destination_rules = dr.listing.items;
    snap.services = services.0;
    let (mut tally, pod_unreadable) = pod_groups;
    snap.rollouts = rollouts.items;
    snap.http_routes = routes.items;
    snap.gateways = gateways.items;
    snap.reference_grants = grants.items;
    snap.namespaces = namespaces;
    snap.unreadable = [
        vs.listing.unreadable,
        dr.listing.unreadable,
        services.1,
        pod_unreadable,
        rollouts.unreadable,
        routes.unreadable,
        gateways.unreadable,
        grants.unreadable,
    ]
    .concat();
    snap.partial =
        [vs.listing.partial, dr.listing.partial, rollouts.partial, routes.partial, gateways.partial, grants.partial]
            .into_iter()
            .flatten()
            .collect();
    if let Some(ns) = ns {
        let more: Vec<String> = graph::needed_namespaces(&snap, opts).into_iter().filter(|n| n != ns).collect();
        let (services, pods) = tokio::try_join!(
            try_join_all(more.iter().map(|n| list_read(cluster, SERVICES, Some(n)))),
            try_join_all(more.iter().map(|n| pods(cluster, Some(n)))),
        )?;
        for (items, unreadable) in services {
            snap.services.extend(items);
            snap.unreadable.extend(unreadable);
        }
        for (groups, unreadable) in pods {
            groups.groups().into_iter().for_each(|g| tally.add(g));
            snap.unreadable.extend(unreadable);
        }
    }
    snap.pods = tally.groups();
    Ok(Read { snapshot: snap, istio_version })
}

/// Pods, counted page by page as they are read (a page of them is the most ever held).
async fn pods(cluster: &Cluster, ns: Option<&str>) -> Result<(PodTally, Vec<Unreadable>), ClusterError> {
    list_fold(cluster, PODS, ns, None, PodTally::default, |tally, page: Vec<Pod>| {
        page.into_iter().for_each(|pod| tally.add(pod.into()))
    })
    .await
}

/// Items read from a listing, and how far the listing reached.
struct Listing<T> {
    items: Vec<T>,
    unreadable: Vec<Unreadable>,
    partial: Option<PartialListing>,
}

struct IstioListing<T> {
    listing: Listing<T>,
    version: &'static str,
}

/// Lists an Istio resource in the newest served version.
async fn istio_list<T: Readable>(
    cluster: &Cluster,
    res: fn(&'static str) -> Res,
    what: Listable,
    ns: Option<&str>,
    keep: Option<&Mentions>,
) -> Result<IstioListing<T>, ClusterError> {
    for version in ISTIO_VERSIONS {
        match widest_list(cluster, res(version), what, ns, keep).await {
            Err(ClusterError::NotFound { .. }) => continue,
            other => return other.map(|listing| IstioListing { listing, version }),
        }
    }
    Err(ClusterError::CrdMissing(format!(
        "the Istio CRDs are not installed: {} is not served by {} (install Istio, or its CRDs from the istio-base chart)",
        res("v1").rbac_name(),
        cluster.server
    )))
}

/// Lists cluster-wide; with only namespace rights, lists the namespace and records what may be missing.
async fn widest_list<T: Readable>(
    cluster: &Cluster,
    res: Res,
    what: Listable,
    ns: Option<&str>,
    keep: Option<&Mentions>,
) -> Result<Listing<T>, ClusterError> {
    match (list_where(cluster, res, None, keep).await, ns) {
        (Ok((items, unreadable)), _) => Ok(Listing { items, unreadable, partial: None }),
        (Err(ClusterError::Forbidden { .. }), Some(ns)) => {
            let (items, unreadable) = list_read(cluster, res, Some(ns)).await?;
            let partial = PartialListing {
                resource: what,
                listed: Listed::Namespace(ns.to_string()),
                reason: Shortfall::Forbidden,
            };
            Ok(Listing { items, unreadable, partial: Some(partial) })
        }
        (Err(e), _) => Err(e),
    }
}

/// Rollouts and the Gateway API objects are optional: no CRD means none; no permission is recorded rather than
/// fatal. They are listed cluster-wide when allowed: a Rollout in another namespace may manage routes here
/// (`virtualService: {name: vs.namespace}`), and an edit must not touch them; an HTTPRoute in a caller's
/// namespace (a consumer route) or a Gateway's routes the host's; with namespace rights only, the namespace's
/// are all that can be known.
async fn optional_list<T: Readable>(
    cluster: &Cluster,
    res: Res,
    what: Listable,
    ns: Option<&str>,
    keep: Option<&Mentions>,
) -> Result<Listing<T>, ClusterError> {
    let none = |partial| Listing { items: Vec::new(), unreadable: Vec::new(), partial };
    if ns.is_some() {
        match list_where(cluster, res, None, keep).await {
            Ok((items, unreadable)) => return Ok(Listing { items, unreadable, partial: None }),
            Err(ClusterError::NotFound { .. }) => return Ok(none(None)),
            Err(ClusterError::Forbidden { .. }) => {} // namespace rights only: the namespace's list below
            Err(e) => return Err(e),
        }
    }
    match list_read(cluster, res, ns).await {
        Ok((items, unreadable)) => Ok(Listing { items, unreadable, partial: None }),
        Err(ClusterError::NotFound { .. }) => Ok(none(None)),
        Err(ClusterError::Forbidden { .. }) => {
            Ok(none(Some(PartialListing { resource: what, listed: Listed::Nothing, reason: Shortfall::Forbidden })))
        }
        Err(e) => Err(e),
    }
}
