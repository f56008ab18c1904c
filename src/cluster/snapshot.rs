//! Reads everything the route model needs in one round of concurrent list calls (no per-object requests),
//! plus, when routes lead to other namespaces (a host-level split, a service named in another namespace), a
//! second round for the Services and Pods of exactly those namespaces.
//!
//! VirtualServices, DestinationRules and Rollouts are listed cluster-wide when allowed: one in any namespace may
//! route to, set subsets for, or manage the routes of a host here (gateway routes usually live in istio-system).

use super::resources::{self, ISTIO_VERSIONS, PODS, ROLLOUTS, Res, SERVICES, list};
use super::{Cluster, ClusterError};
use crate::routes::{self, Snapshot};
use futures::future::try_join_all;
use serde::de::DeserializeOwned;

pub async fn fetch(cluster: &Cluster, all_namespaces: bool, opts: &routes::Options) -> Result<Snapshot, ClusterError> {
    let ns = (!all_namespaces).then_some(cluster.namespace.as_str());
    let (vs, dr, services, pods, rollouts) = tokio::join!(
        istio_list(cluster, resources::virtual_services, ns),
        istio_list(cluster, resources::destination_rules, ns),
        services_in(cluster, ns),
        list(cluster, PODS, ns),
        optional_list(cluster, ROLLOUTS, ns),
    );
    // Errors are reported in this fixed order (not whichever request failed first), so the same missing
    // permission always gives the same message.
    let (vs, dr, services, pods, rollouts) = (vs?, dr?, services?, pods?, rollouts?);
    let partial = [vs.1, dr.1, services.1, rollouts.1].into_iter().flatten().collect();
    let mut snap = Snapshot {
        virtual_services: vs.0,
        destination_rules: dr.0,
        services: services.0,
        pods,
        rollouts: rollouts.0,
        partial,
    };
    if let Some(ns) = ns {
        let more: Vec<String> = routes::needed_namespaces(&snap, opts).into_iter().filter(|n| n != ns).collect();
        let (services, pods) = tokio::try_join!(
            try_join_all(more.iter().map(|n| list(cluster, SERVICES, Some(n)))),
            try_join_all(more.iter().map(|n| list(cluster, PODS, Some(n)))),
        )?;
        snap.services.extend(services.into_iter().flatten());
        snap.pods.extend(pods.into_iter().flatten());
    }
    Ok(snap)
}

async fn services_in<T: DeserializeOwned + Clone>(
    cluster: &Cluster,
    ns: Option<&str>,
) -> Result<Listed<T>, ClusterError> {
    list(cluster, SERVICES, ns).await.map(|items| (items, None))
}

type Listed<T> = (Vec<T>, Option<String>);

/// Lists an Istio resource in the newest served version. A VirtualService in any namespace may route to
/// this one's hosts, so it lists cluster-wide, and falls back to the namespace (saying so) without the right.
async fn istio_list<T: DeserializeOwned + Clone>(
    cluster: &Cluster,
    res: fn(&'static str) -> Res,
    ns: Option<&str>,
) -> Result<Listed<T>, ClusterError> {
    for version in ISTIO_VERSIONS {
        match widest_list(cluster, res(version), ns).await {
            Err(ClusterError::NotFound { .. }) => continue,
            other => return other,
        }
    }
    Err(ClusterError::CrdMissing(format!(
        "the Istio CRDs are not installed: {} is not served by {} (install Istio, or its CRDs from the istio-base chart)",
        res("v1").rbac_name(),
        cluster.server
    )))
}

/// Lists cluster-wide; with only namespace rights, lists the namespace and notes what may be missing.
async fn widest_list<T: DeserializeOwned + Clone>(
    cluster: &Cluster,
    res: Res,
    ns: Option<&str>,
) -> Result<Listed<T>, ClusterError> {
    match (list(cluster, res, None).await, ns) {
        (Ok(items), _) => Ok((items, None)),
        (Err(ClusterError::Forbidden { .. }), Some(ns)) => {
            let items = list(cluster, res, Some(ns)).await?;
            let note = format!(
                "{} listed in namespace {ns} only (no cluster-wide list permission): objects in other namespaces are not shown",
                res.rbac_name()
            );
            Ok((items, Some(note)))
        }
        (Err(e), _) => Err(e),
    }
}

/// Rollouts are optional: no CRD means no Rollouts; no permission is noted rather than fatal. They are listed
/// cluster-wide when allowed: a Rollout in another namespace may manage routes here (`virtualService: {name:
/// vs.namespace}`), and an edit must not touch them; with namespace rights only, the namespace's are all that
/// can be known.
async fn optional_list<T: DeserializeOwned + Clone>(
    cluster: &Cluster,
    res: Res,
    ns: Option<&str>,
) -> Result<Listed<T>, ClusterError> {
    if ns.is_some() {
        match list(cluster, res, None).await {
            Ok(items) => return Ok((items, None)),
            Err(ClusterError::NotFound { .. }) => return Ok((Vec::new(), None)),
            Err(ClusterError::Forbidden { .. }) => {} // namespace rights only: the namespace's list below
            Err(e) => return Err(e),
        }
    }
    match list(cluster, res, ns).await {
        Ok(items) => Ok((items, None)),
        Err(ClusterError::NotFound { .. }) => Ok((Vec::new(), None)),
        Err(ClusterError::Forbidden { .. }) => {
            Ok((Vec::new(), Some(format!("cannot list {}: Rollout ownership is not shown", res.rbac_name()))))
        }
        Err(e) => Err(e),
    }
}
