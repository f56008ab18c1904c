//! Reads everything the route graph needs in one round of concurrent list calls (no per-object requests),
//! plus, when routes lead to other namespaces (a host-level split, a service named in another namespace), a
//! second round for the Services and Pods of exactly those namespaces. Each item is read on its own: what
//! cannot be read is kept as [`Unreadable`], never dropped.
//!
//! VirtualServices, DestinationRules and Rollouts are listed cluster-wide when allowed: one in any namespace may
//! route to, set subsets for, or manage the routes of a host here (gateway routes usually live in istio-system).
//! A namespace's view decodes only the items of those lists that name what it shows ([`Mentions`]), reading
//! them once more with the wider words when its routes lead elsewhere. Without the right to list
//! cluster-wide, the namespace's are listed, and the snapshot records what is missing ([`PartialListing`]).

use super::resources::{self, GATEWAYS, HTTP_ROUTES, ISTIO_VERSIONS, NAMESPACES, PODS, REFERENCE_GRANTS, ROLLOUTS};
use super::resources::{Res, SERVICES};
use super::resources::{list_fold, list_read, list_where};
use super::{Cluster, ClusterError};
use crate::gateway::HttpRoute;
use crate::graph::{self, Options, Scope};
use crate::istio::VirtualService;
use crate::istio::host;
use crate::objects::k8s::{Pod, PodGroup, PodTally};
use crate::objects::read::{Mentions, Readable};
use crate::objects::{Kind, Listable, Listed, PartialListing, Shortfall, Snapshot, Unreadable};
use crate::rollouts::Rollout;
use futures::future::try_join_all;

/// A snapshot, and which Istio API version served it (a watch must watch the same one).
pub struct Read {
    pub snapshot: Snapshot,
    pub istio_version: &'static str,
}

pub async fn fetch(cluster: &Cluster, all_namespaces: bool, opts: &Options) -> Result<Read, ClusterError> {
    let ns = (!all_namespaces).then_some(cluster.namespace.as_str());
    let keep = concerning(opts, ns);
    let (routes_read, dr, services, pod_list, gateways, grants, namespaces) = tokio::join!(
        routing(cluster, ns, keep.as_ref()),
        // Filtered as the routes are (the subsets of the namespace's hosts), and read again below when the routes
        // lead to hosts it does not name.
        istio_list(cluster, resources::destination_rules, Listable::DestinationRules, ns, keep.as_ref()),
        list_read(cluster, SERVICES, ns),
        pods(cluster, ns),
        // Few, and what they name is not the routed namespace (a Gateway's listeners, a grant's targets).
        optional_list(cluster, GATEWAYS, Listable::Gateways, ns, None),
        optional_list(cluster, REFERENCE_GRANTS, Listable::ReferenceGrants, ns, None),
        list_read(cluster, NAMESPACES, None),
    );
    // Errors are reported in this fixed order (not whichever request failed first), so the same missing
    // permission always gives the same message.
    let (vs, rollouts, routes) = routes_read;
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
    let mut istio_version = vs.version;
    snap.destination_rules = dr.listing.items;
    snap.services = services.0;
    let (mut tally, pod_unreadable) = pod_groups;
    snap.gateways = gateways.items;
    snap.reference_grants = grants.items;
    snap.namespaces = namespaces;
    snap.unreadable =
        [dr.listing.unreadable, services.1, pod_unreadable, gateways.unreadable, grants.unreadable].concat();
    snap.partial = [dr.listing.partial, gateways.partial, grants.partial].into_iter().flatten().collect();
    set_routing(&mut snap, vs.listing, rollouts, routes);
    if let Some(ns) = ns {
        let mut needed = graph::needed(&snap, opts);
        let mut wider_rules = None;
        // Hosts leading to other namespaces (a host of another namespace routed from here): what names those is
        // read too, once more at most and only for such routes, so that every VirtualService claiming a shown
        // host is seen, whichever namespace it is in; and every DestinationRule of a shown destination,
        // whichever namespace it is in (it names the destination's namespace, or the host outside the mesh).
        if let Some(keep) = keep {
            if let Some(wider) = keep.with(needed.namespaces.iter()) {
                let (vs, rollouts, routes) = routing(cluster, Some(ns), Some(&wider)).await;
                let (vs, rollouts, routes) = (vs?, rollouts?, routes?);
                istio_version = vs.version;
                set_routing(&mut snap, vs.listing, rollouts, routes);
                needed = graph::needed(&snap, opts);
            }
            wider_rules = keep.with(needed.namespaces.iter().chain(&needed.other_hosts));
        }
        let rules = resources::destination_rules(istio_version);
        let more: Vec<String> = needed.namespaces.into_iter().filter(|n| n != ns).collect();
        let (services, pods, rules) = tokio::try_join!(
            try_join_all(more.iter().map(|n| list_read(cluster, SERVICES, Some(n)))),
            try_join_all(more.iter().map(|n| pods(cluster, Some(n)))),
            async {
                match &wider_rules {
                    Some(keep) => {
                        widest_list(cluster, rules, Listable::DestinationRules, Some(ns), Some(keep)).await.map(Some)
                    }
                    None => Ok(None),
                }
            },
        )?;
        if let Some(rules) = rules {
            snap.unreadable.retain(|u| u.object.kind != Kind::DestinationRule);
            snap.partial.retain(|p| p.resource != Listable::DestinationRules);
            snap.unreadable.extend(rules.unreadable);
            snap.partial.extend(rules.partial);
            snap.destination_rules = rules.items;
        }
        for (items, unreadable) in services {
            snap.services.extend(items);
            snap.unreadable.extend(unreadable);
        }
        for (groups, unreadable) in pods {
            tally.merge(groups);
            snap.unreadable.extend(unreadable);
        }
    }
    snap.pods = tally.groups();
    Ok(Read { snapshot: snap, istio_version })
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

type Routing = (
    Result<IstioListing<VirtualService>, ClusterError>,
    Result<Listing<Rollout>, ClusterError>,
    Result<Listing<HttpRoute>, ClusterError>,
);

/// The lists a namespace's view reads only in part ([`Mentions`] `keep`): what routes hosts, and what
/// rewrites those routes.
async fn routing(cluster: &Cluster, ns: Option<&str>, keep: Option<&Mentions>) -> Routing {
    tokio::join!(
        istio_list(cluster, resources::virtual_services, Listable::VirtualServices, ns, keep),
        optional_list(cluster, ROLLOUTS, Listable::Rollouts, ns, keep),
        optional_list(cluster, HTTP_ROUTES, Listable::HttpRoutes, ns, keep),
    )
}

/// Puts the [`routing`] lists in the snapshot, replacing any read before (with what could not be read of them,
/// and how far they reached).
fn set_routing(
    snap: &mut Snapshot,
    vs: Listing<VirtualService>,
    rollouts: Listing<Rollout>,
    routes: Listing<HttpRoute>,
) {
    let kinds = [Kind::VirtualService, Kind::Rollout, Kind::HttpRoute];
    snap.unreadable.retain(|u| !kinds.contains(&u.object.kind));
    let lists = [Listable::VirtualServices, Listable::Rollouts, Listable::HttpRoutes];
    snap.partial.retain(|p| !lists.contains(&p.resource));
    snap.unreadable.extend(vs.unreadable.into_iter().chain(rollouts.unreadable).chain(routes.unreadable));
    snap.partial.extend([vs.partial, rollouts.partial, routes.partial].into_iter().flatten());
    snap.virtual_services = vs.items;
    snap.rollouts = rollouts.items;
    snap.http_routes = routes.items;
}

/// Pods, counted as they are read (a batch of them is the most ever held).
async fn pods(cluster: &Cluster, ns: Option<&str>) -> Result<(PodTally, Vec<Unreadable>), ClusterError> {
    list_fold(cluster, PODS, ns, None, PodTally::default(), |tally, read: Vec<Pod>| {
        tally.extend(read.into_iter().map(PodGroup::from))
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
