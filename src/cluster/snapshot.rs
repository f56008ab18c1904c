//! Reads everything the route graph needs in one round of concurrent list calls (no per-object requests),
//! plus, when routes lead to other namespaces (a host-level split, a service named in another namespace), a
//! second round for the Services and Pods of exactly those namespaces. Each item is read on its own: what
//! cannot be read is kept as [`Unreadable`], never dropped.
//!
//! VirtualServices, DestinationRules and Rollouts are listed cluster-wide when allowed: one in any namespace may
//! route to, set subsets for, or manage the routes of a host here (gateway routes usually live in istio-system).
//! Without that right the namespace's are listed, and the snapshot records what is missing ([`PartialListing`]).

use super::resources::list_read;
use super::resources::{self, GATEWAYS, HTTP_ROUTES, ISTIO_VERSIONS, NAMESPACES, PODS, REFERENCE_GRANTS, ROLLOUTS};
use super::resources::{Res, SERVICES};
use super::{Cluster, ClusterError};
use crate::graph::{self, Options};
use crate::objects::read::Readable;
use crate::objects::{Listable, Listed, PartialListing, Shortfall, Snapshot, Unreadable};
use futures::future::try_join_all;

/// A snapshot, and which Istio API version served it (a watch must watch the same one).
pub struct Read {
    pub snapshot: Snapshot,
    pub istio_version: &'static str,
}

pub async fn fetch(cluster: &Cluster, all_namespaces: bool, opts: &Options) -> Result<Read, ClusterError> {
    let ns = (!all_namespaces).then_some(cluster.namespace.as_str());
    let (vs, dr, services, pods, rollouts, routes, gateways, grants, namespaces) = tokio::join!(
        istio_list(cluster, resources::virtual_services, Listable::VirtualServices, ns),
        istio_list(cluster, resources::destination_rules, Listable::DestinationRules, ns),
        list_read(cluster, SERVICES, ns),
        list_read(cluster, PODS, ns),
        optional_list(cluster, ROLLOUTS, Listable::Rollouts, ns),
        optional_list(cluster, HTTP_ROUTES, Listable::HttpRoutes, ns),
        optional_list(cluster, GATEWAYS, Listable::Gateways, ns),
        optional_list(cluster, REFERENCE_GRANTS, Listable::ReferenceGrants, ns),
        list_read(cluster, NAMESPACES, None),
    );
    // Errors are reported in this fixed order (not whichever request failed first), so the same missing
    // permission always gives the same message.
    let (vs, dr, services, pods, rollouts) = (vs?, dr?, services?, pods?, rollouts?);
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
    snap.pods = pods.0;
    snap.rollouts = rollouts.items;
    snap.http_routes = routes.items;
    snap.gateways = gateways.items;
    snap.reference_grants = grants.items;
    snap.namespaces = namespaces;
    snap.unreadable = [
        vs.listing.unreadable,
        dr.listing.unreadable,
        services.1,
        pods.1,
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
            try_join_all(more.iter().map(|n| list_read(cluster, PODS, Some(n)))),
        )?;
        for (items, unreadable) in services {
            snap.services.extend(items);
            snap.unreadable.extend(unreadable);
        }
        for (items, unreadable) in pods {
            snap.pods.extend(items);
            snap.unreadable.extend(unreadable);
        }
    }
    Ok(Read { snapshot: snap, istio_version })
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
) -> Result<IstioListing<T>, ClusterError> {
    for version in ISTIO_VERSIONS {
        match widest_list(cluster, res(version), what, ns).await {
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
) -> Result<Listing<T>, ClusterError> {
    match (list_read(cluster, res, None).await, ns) {
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
) -> Result<Listing<T>, ClusterError> {
    let none = |partial| Listing { items: Vec::new(), unreadable: Vec::new(), partial };
    if ns.is_some() {
        match list_read(cluster, res, None).await {
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
