//! HTTPRoutes in the route graph: a host's attached routes become rule nodes per audience (producer,
//! consumer namespace, or Gateway), ordered and judged reachable by Gateway API precedence, their backends
//! versions of the host exactly as a VirtualService's destination hosts are (one Service per version).

use super::index::Attached;
use super::{Audience, ConditionNode, DestinationNode, MirrorNode, RuleNode};
use crate::gateway::objects::{BackendRef, HttpRoute};
use crate::gateway::route::{self, Parent};
use crate::istio::VersionKey;
use crate::istio::route::Namer;
use std::collections::BTreeMap;

/// The version a backend is: its Service's host; other kinds by `group/Kind/namespace/name`, so they show as
/// they are rather than as a Service that does not exist.
pub fn backend_key(b: &BackendRef, route_namespace: &str, domain: &str) -> VersionKey {
    let host = match b.service(route_namespace) {
        Some(s) => format!("{}.{}.svc.{domain}", s.name, s.namespace),
        None => format!("{}/{}/{}", b.kind_label(), b.namespace.as_deref().unwrap_or(route_namespace), b.name),
    };
    VersionKey { host, subset: None }
}

/// Every version the attached routes send or mirror to, in order of first appearance.
pub fn keys(attached: &[Attached], domain: &str) -> Vec<VersionKey> {
    let mut keys = Vec::new();
    for a in attached {
        let ns = &a.route.metadata.namespace;
        for rule in &a.route.spec.rules {
            let targets = rule.backend_refs.iter().chain(rule.mirrors().into_iter().map(|(b, _)| b));
            for b in targets {
                let key = backend_key(b, ns, domain);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// Who the rules of a route attached through `parent` apply to.
fn audience(a: &Attached) -> Audience {
    match &a.parent {
        Parent::Service { service, .. } if service.namespace != a.route.metadata.namespace => {
            Audience::Consumers(a.route.metadata.namespace.clone())
        }
        Parent::Gateway { gateway, .. } => Audience::Gateway(gateway.clone()),
        _ => Audience::Producers,
    }
}

/// The host's HTTPRoutes (oldest first) and their rules: audiences in order (producers, consumer namespaces,
/// Gateways), each audience's rules in precedence order.
pub fn rules<'s>(attached: &[Attached<'s>], namer: &Namer) -> (Vec<&'s HttpRoute>, Vec<RuleNode<'s>>) {
    let mut routes: Vec<&HttpRoute> = Vec::new();
    let mut by_audience: BTreeMap<Audience, Vec<&Attached>> = BTreeMap::new();
    for a in attached {
        if !routes.iter().any(|r| std::ptr::eq(*r, a.route)) {
            routes.push(a.route);
        }
        by_audience.entry(audience(a)).or_default().push(a);
    }
    routes.sort_by_key(|r| {
        (r.metadata.creation_timestamp.clone(), r.metadata.namespace.clone(), r.metadata.name.clone())
    });
    let mut nodes = Vec::new();
    for (audience, group) in by_audience {
        let pairs: Vec<(&Attached, usize)> =
            group.iter().flat_map(|a| (0..a.route.spec.rules.len()).map(move |i| (*a, i))).collect();
        let by_route: Vec<(&HttpRoute, usize)> = pairs.iter().map(|(a, i)| (a.route, *i)).collect();
        let order = route::order(&by_route);
        for at in order.rules {
            let (a, index) = pairs[at];
            nodes.push(node(a, index, audience.clone(), order.reachable[at], namer));
        }
    }
    (routes, nodes)
}

fn node<'s>(a: &Attached<'s>, index: usize, audience: Audience, reachable: bool, namer: &Namer) -> RuleNode<'s> {
    let ns = &a.route.metadata.namespace;
    let rule = &a.route.spec.rules[index];
    let destinations = rule
        .backend_refs
        .iter()
        .zip(rule.shares())
        .map(|(b, share)| {
            let key = backend_key(b, ns, namer.domain);
            DestinationNode { version: namer.name(&key), key, weight: b.weight, share }
        })
        .collect();
    let mirror = rule.mirrors().into_iter().next().map(|(b, percent)| {
        let key = backend_key(b, ns, namer.domain);
        MirrorNode { version: namer.name(&key), key, percent }
    });
    let parent_ref = &a.route.spec.parent_refs[a.parent_index];
    let conditions = route::conditions(a.route, parent_ref)
        .unwrap_or_default()
        .iter()
        .map(|c| ConditionNode {
            kind: c.kind.clone(),
            status: c.status.clone(),
            reason: c.reason.clone(),
            message: c.message.clone(),
        })
        .collect();
    RuleNode {
        route: a.route,
        index,
        rule,
        parent: a.parent.clone(),
        audience,
        destinations,
        mirror,
        reachable,
        conditions,
        managed_by: None,
    }
}
