//! Argo Rollouts in the graph: which routes a Rollout rewrites (joined to VirtualServices and routes by
//! reference), its phase and step, the canary weight it wants beside the one the VirtualService gives, drift
//! between the two, and Rollouts that could not be read.

use super::findings::Code;
use super::{HostNode, Owner, RolloutNode, RouteGraph, Scope};
use crate::istio::VirtualService;
use crate::objects::{Kind, ObjectRef, Snapshot};
use crate::rollouts::{self, DestinationRole, GatewayOwnership, IstioOwnership, Rollout, ServiceRole, progress};
use std::collections::{HashMap, HashSet};

pub(super) fn attach<'s>(snap: &'s Snapshot, scope: &Scope, graph: &mut RouteGraph<'s>) {
    // Owners in this order: the readable ones first, `readable[i]` being `graph.owners[i]`'s Rollout.
    let mut readable: Vec<&'s Rollout> = Vec::new();
    for ro in &snap.rollouts {
        if let Some(ownership) = IstioOwnership::of(ro) {
            graph.owners.push(Owner { rollout: reference(ro), ownership, unreadable: None });
            readable.push(ro);
        }
    }
    // Never guess about a Rollout that cannot be read: say so, and keep what its routing fields claim. Each
    // view reports those of its own namespaces and those claiming its routes, not every broken Rollout of the
    // cluster.
    let shown: HashSet<(&str, &str)> = graph
        .hosts
        .iter()
        .flat_map(|h| h.virtual_services.iter().map(|vs| (vs.metadata.namespace.as_str(), vs.metadata.name.as_str())))
        .collect();
    let mut namespaces: HashSet<String> = graph.hosts.iter().map(|h| h.namespace.clone()).collect();
    if let Scope::Namespace(ns) = scope {
        namespaces.insert(ns.clone());
    }
    let mut findings = Vec::new();
    for bad in snap.unreadable.iter().filter(|u| u.object.kind == Kind::Rollout) {
        let ownership = bad.routing.as_ref().map(IstioOwnership::of);
        let claims_shown = matches!(&ownership, Some(Some(own))
            if own.virtual_services.iter().any(|vs| shown.contains(&(vs.namespace.as_str(), vs.name.as_str()))));
        if *scope == Scope::All || claims_shown || namespaces.contains(&bad.object.namespace) {
            let why = match bad.error.path.as_str() {
                "" => bad.error.message.clone(),
                field => format!("Rollout field {field}: {}", bad.error.message),
            };
            let message = format!("cannot read this Rollout: {why}");
            findings.push(Code::UnreadableObject.finding(bad.object.to_string(), message));
        }
        match ownership {
            Some(Some(ownership)) => {
                graph.owners.push(Owner { rollout: bad.object.clone(), ownership, unreadable: Some(bad) })
            }
            Some(None) => {} // readable routing without Istio: it owns no route
            None => graph.unknown_owners.push(bad),
        }
    }
    graph.findings.extend(findings);
    if graph.owners.is_empty() {
        return;
    }
    // Which owners claim each VirtualService, so each host only looks at its own (big meshes have thousands).
    let mut claims: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, owner) in graph.owners.iter().enumerate() {
        for vs in &owner.ownership.virtual_services {
            claims.entry((vs.namespace.as_str(), vs.name.as_str())).or_default().push(i);
        }
    }
    for node in &mut graph.hosts {
        let mut mine: Vec<usize> = node
            .virtual_services
            .iter()
            .flat_map(|vs| {
                claims.get(&(vs.metadata.namespace.as_str(), vs.metadata.name.as_str())).into_iter().flatten()
            })
            .copied()
            .collect();
        mine.sort_unstable();
        mine.dedup();
        for i in mine {
            let owner = &graph.owners[i];
            if !mark_routes(node, owner) {
                continue;
            }
            // Phase, step and weights only of a Rollout that could be read whole.
            let Some(ro) = readable.get(i) else { continue };
            let rollout = rollout_node(ro, owner, node);
            drift(&rollout, node);
            mark_versions(node, &owner.ownership);
            node.rollout.get_or_insert(rollout);
        }
    }
}

fn reference(ro: &Rollout) -> ObjectRef {
    ObjectRef::new(Kind::Rollout, &ro.metadata.namespace, &ro.metadata.name)
}

/// Sets `managed_by` on the routes `owner` rewrites; true when it rewrites any of this host's routes.
fn mark_routes(node: &mut HostNode, owner: &Owner) -> bool {
    let mut any = false;
    for route in &mut node.routes {
        let vs: &VirtualService = route.vs;
        let names = vs.route_names();
        if owner.ownership.http_route_claim(&vs.metadata.namespace, &vs.metadata.name, &names, route.index).is_some() {
            route.managed_by = Some(owner.rollout.clone());
            any = true;
        }
    }
    any
}

fn rollout_node(ro: &Rollout, owner: &Owner, node: &HostNode) -> RolloutNode {
    let own = &owner.ownership;
    let owned = node.routes.iter().find(|r| r.managed_by.as_ref() == Some(&owner.rollout));
    let actual = owned.map(|r| {
        r.destinations
            .iter()
            .filter(|d| own.destination_role(&d.key.host, d.key.subset.as_deref()) == DestinationRole::Canary)
            .map(|d| d.share)
            .sum::<f64>()
    });
    RolloutNode {
        canary_subset: own.destination_rule.as_ref().map(|d| d.canary_subset.clone()),
        stable_subset: own.destination_rule.as_ref().map(|d| d.stable_subset.clone()),
        ..progress_of(ro, owner.rollout.clone(), actual)
    }
}

/// What the Rollout is doing, as `kubectl argo rollouts get` shows it, with the canary share its route gives.
fn progress_of(ro: &Rollout, rollout: ObjectRef, actual: Option<f64>) -> RolloutNode {
    let phase = rollouts::phase(ro);
    RolloutNode {
        rollout,
        strategy: progress::strategy_kind(ro).map_or("unknown", |k| k.as_str()).to_string(),
        phase: phase.phase.as_str().to_string(),
        message: phase.message,
        step: progress::step_progress(ro).map(|s| s.to_string()),
        canary_subset: None,
        stable_subset: None,
        desired_canary_weight: progress::desired_weights(ro).map(|w| i64::from(w.canary)),
        actual_canary_weight: actual,
    }
}

/// Rollouts whose Gateway API traffic-router plugin (`argoproj-labs/gatewayAPI`) sets the weights of HTTPRoute
/// rules: the rules that name its canary or stable Service are its own, as a managed VirtualService route is.
pub(super) fn attach_gateway(snap: &Snapshot, graph: &mut RouteGraph) {
    for ro in &snap.rollouts {
        let Some(own) = GatewayOwnership::of(ro) else { continue };
        let rollout = reference(ro);
        for node in &mut graph.hosts {
            let mut canary_share = None;
            for rule in node.rules.iter_mut().filter(|r| own.manages(r.route, r.rule)) {
                let ns = &rule.route.metadata.namespace;
                rule.managed_by = Some(rollout.clone());
                let canary: f64 = rule
                    .rule
                    .backend_refs
                    .iter()
                    .zip(&rule.destinations)
                    .filter(|(b, _)| own.role(b, ns) == Some(ServiceRole::Canary))
                    .map(|(_, d)| d.share)
                    .sum();
                // The split the plugin sets shows best on a rule with both Services (a header rule to the
                // canary alone is 100% canary whatever the step).
                let both = rule.rule.backend_refs.iter().any(|b| own.role(b, ns) == Some(ServiceRole::Stable));
                match canary_share {
                    Some((true, _)) => {}
                    Some((false, _)) if !both => {}
                    _ => canary_share = Some((both, canary)),
                }
            }
            if let Some((_, actual)) = canary_share
                && node.rollout.is_none()
            {
                let progress = progress_of(ro, rollout.clone(), Some(actual));
                drift(&progress, node);
                node.rollout = Some(progress);
            }
        }
    }
}

/// The controller rewrites weights on every reconcile: a difference that lasts means it is not running, is
/// failing, or someone is fighting it.
fn drift(r: &RolloutNode, node: &mut HostNode) {
    if let (Some(desired), Some(actual)) = (r.desired_canary_weight, r.actual_canary_weight)
        && (desired as f64 - actual).abs() >= 0.5
    {
        node.findings.push(Code::RolloutWeightDrift.finding(
            r.rollout.to_string(),
            format!("the Rollout wants {desired}% on the canary, but its route gives {actual:.0}%"),
        ));
    }
}

/// Names the Rollout (and the role) as owner of the canary and stable subsets.
fn mark_versions(node: &mut HostNode, own: &IstioOwnership) {
    let Some(dr) = &own.destination_rule else { return };
    for v in &mut node.versions {
        let role = match v.key.subset.as_deref() {
            Some(s) if s == dr.canary_subset => "canary",
            Some(s) if s == dr.stable_subset => "stable",
            _ => continue,
        };
        let owner = format!("Rollout/{} ({role})", own.rollout_name);
        v.owners.retain(|o| o != &format!("Rollout/{}", own.rollout_name));
        v.owners.insert(0, owner);
    }
}
