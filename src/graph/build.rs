//! The first pass: one host's node, from the index. Routes come in Istio's order (VirtualServices oldest
//! first, then each one's `http` list), each destination named as the version it is; versions are everything
//! routed or mirrored to, then the host's own subsets nobody routes to yet.

use super::index::Index;
use super::{DestinationNode, HostNode, MirrorNode, PodCount, RouteNode, SplitKind, VersionNode};
use crate::istio::host;
use crate::istio::objects::CircuitBreaker;
use crate::istio::route::{Namer, VersionKey, destination_key};
use crate::istio::{HttpRoute, VirtualService};
use crate::objects::Kind;
use crate::objects::meta::ObjectRef;
use std::collections::BTreeSet;

pub fn host<'s>(idx: &Index<'s>, target: &str, version_label: &str) -> HostNode<'s> {
    let domain = idx.domain();
    let vss: Vec<&'s VirtualService> = idx.vs_by_host.get(target).cloned().unwrap_or_default();
    let namespace = host::service_of(target, domain)
        .map(|(_, ns)| ns)
        .or_else(|| vss.first().map(|vs| vs.metadata.namespace.clone()))
        .or_else(|| idx.routes_by_host.get(target)?.first().map(|a| a.route.metadata.namespace.clone()))
        .unwrap_or_default();

    // Every version routed or mirrored to, in order of first appearance.
    let mut keys: Vec<VersionKey> = Vec::new();
    for vs in &vss {
        let ns = &vs.metadata.namespace;
        for r in &vs.spec.http {
            let targets = r.route.iter().map(|d| &d.destination).chain(r.mirrors().into_iter().map(|(d, _)| d));
            for d in targets {
                let key = destination_key(d, ns, domain);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    let attached = idx.routes_by_host.get(target).map(Vec::as_slice).unwrap_or_default();
    for key in super::gateway::keys(attached, domain) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let dest_hosts: BTreeSet<&String> = keys.iter().map(|k| &k.host).collect();
    let namer = Namer { domain, multi_host: dest_hosts.len() > 1 };
    let split = match (dest_hosts.len(), keys.iter().any(|k| k.subset.is_some())) {
        (0, _) | (1, false) => SplitKind::None,
        (1, true) => SplitKind::Subset,
        (_, false) => SplitKind::Host,
        (_, true) => SplitKind::Mixed,
    };

    let mut routes = Vec::new();
    let mut caught = false;
    for vs in &vss {
        for (index, r) in vs.spec.http.iter().enumerate() {
            routes.push(route(vs, index, r, !caught, &namer));
            caught |= r.is_catch_all();
        }
    }

    if split != SplitKind::Host {
        for dr in idx.drs_for(target) {
            for s in &dr.spec.subsets {
                let key = VersionKey { host: target.to_string(), subset: Some(s.name.clone()) };
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    let (http_routes, rules) = super::gateway::rules(attached, &namer);
    let versions = keys.into_iter().map(|k| version(idx, k, &namer, version_label)).collect();
    HostNode {
        host: target.to_string(),
        namespace,
        split,
        version_pinned: false,
        pin_header: None,
        waypoint: idx.waypoint(target),
        virtual_services: vss,
        routes,
        http_routes,
        rules,
        versions,
        rollout: None,
        findings: Vec::new(),
    }
}

fn route<'s>(vs: &'s VirtualService, index: usize, r: &'s HttpRoute, reachable: bool, namer: &Namer) -> RouteNode<'s> {
    let ns = &vs.metadata.namespace;
    let destinations = r
        .route
        .iter()
        .zip(r.shares())
        .map(|(d, share)| {
            let key = destination_key(&d.destination, ns, namer.domain);
            DestinationNode { version: namer.name(&key), key, weight: d.weight, share }
        })
        .collect();
    let mirror = r.mirrors().into_iter().next().map(|(d, percent)| {
        let key = destination_key(d, ns, namer.domain);
        MirrorNode { version: namer.name(&key), key, percent }
    });
    RouteNode { vs, index, route: r, destinations, mirror, reachable, managed_by: None }
}

fn version(idx: &Index, key: VersionKey, namer: &Namer, version_label: &str) -> VersionNode {
    let def = key.subset.as_deref().and_then(|s| idx.subset(&key.host, s));
    let labels = def.map(|(_, s)| s.labels.clone()).unwrap_or_default();
    let outlier_detection = match (&key.subset, def) {
        (Some(_), Some((dr, s))) => [&s.traffic_policy, &dr.spec.traffic_policy]
            .iter()
            .any(|p| p.as_ref().is_some_and(|p| p.has_outlier_detection())),
        (Some(_), None) => false,
        (None, _) => idx
            .drs_for(&key.host)
            .first()
            .and_then(|dr| dr.spec.traffic_policy.as_ref())
            .is_some_and(|p| p.has_outlier_detection()),
    };
    let circuit_breaker = match (&key.subset, def) {
        (Some(_), Some((dr, s))) => {
            CircuitBreaker::effective(s.traffic_policy.as_ref(), dr.spec.traffic_policy.as_ref())
        }
        (Some(_), None) => None,
        (None, _) => idx
            .drs_for(&key.host)
            .first()
            .and_then(|dr| CircuitBreaker::effective(None, dr.spec.traffic_policy.as_ref())),
    };
    // A subset nobody defines selects nothing: count no pods rather than all of the Service's.
    let pods = if key.subset.is_some() && def.is_none() { Some(Vec::new()) } else { idx.pods(&key.host, &labels) };
    let owners: BTreeSet<String> = pods
        .iter()
        .flatten()
        .filter_map(|p| {
            let (kind, name) = p.owner.as_ref()?;
            // A ReplicaSet's owner reads as a Deployment by its name; a Rollout's pods look the same.
            let rollout = ObjectRef::new(Kind::Rollout, &p.namespace, name);
            Some(if kind == "Deployment" && idx.is_rollout(&rollout) {
                format!("Rollout/{name}")
            } else {
                format!("{kind}/{name}")
            })
        })
        .collect();
    let defined = match &key.subset {
        Some(_) => def.is_some(),
        None => host::service_of(&key.host, idx.domain()).is_none() || idx.service(&key.host).is_some(),
    };
    VersionNode {
        name: namer.name(&key),
        labels,
        defined,
        pods: pods.as_ref().map(|p| PodCount::of(p.iter().copied())),
        outlier_detection,
        circuit_breaker,
        owners: owners.into_iter().collect(),
        traffic: None,
        waypoint: idx.waypoint(&key.host).is_some(),
        pod_version: super::pod_version(pods.as_deref(), version_label),
        key,
    }
}
