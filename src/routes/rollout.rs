//! Argo Rollouts in the model: which routes a Rollout rewrites, its phase and step, the canary weight it
//! wants beside the one the VirtualService gives, and drift between the two.

use super::findings::Code;
use super::model::{RolloutView, ServiceView, StatusReport};
use super::objects::VirtualService;
use crate::rollouts::{self, DestinationRole, IstioOwnership, Rollout, progress};
use std::collections::BTreeMap;

pub(super) fn attach(rollouts: &[serde_json::Value], virtual_services: &[VirtualService], report: &mut StatusReport) {
    let mut owners: Vec<(Rollout, IstioOwnership)> = Vec::new();
    for raw in rollouts {
        match Rollout::from_value(raw) {
            Ok(ro) => {
                if let Some(own) = IstioOwnership::of(&ro) {
                    owners.push((ro, own));
                }
            }
            // Never guess about a Rollout we cannot read: say so.
            Err(e) => report.findings.push(Code::PartialListing.finding(
                format!(
                    "Rollout/{}/{}",
                    raw["metadata"]["namespace"].as_str().unwrap_or(""),
                    raw["metadata"]["name"].as_str().unwrap_or("?")
                ),
                format!("cannot read this Rollout: {e}"),
            )),
        }
    }
    if owners.is_empty() {
        return;
    }
    let vs_by_key: BTreeMap<String, &VirtualService> =
        virtual_services.iter().map(|vs| (format!("{}/{}", vs.metadata.namespace, vs.metadata.name), vs)).collect();
    // Which Rollouts claim each VirtualService, so each view only looks at its own (big meshes have thousands).
    let mut claims: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, own)) in owners.iter().enumerate() {
        for vs in &own.virtual_services {
            claims.entry(format!("{}/{}", vs.namespace, vs.name)).or_default().push(i);
        }
    }
    for view in &mut report.services {
        let mut mine: Vec<usize> =
            view.virtual_services.iter().flat_map(|k| claims.get(k).into_iter().flatten().copied()).collect();
        mine.sort_unstable();
        mine.dedup();
        for (ro, own) in mine.into_iter().map(|i| &owners[i]) {
            if mark_routes(view, own, &vs_by_key) {
                let rollout = rollout_view(ro, own, view);
                drift(&rollout, view);
                mark_versions(view, own);
                view.rollout.get_or_insert(rollout);
            }
        }
    }
}

/// Sets `managed_by` on the routes `own` rewrites; true when it rewrites any of this view's routes.
fn mark_routes(view: &mut ServiceView, own: &IstioOwnership, vss: &BTreeMap<String, &VirtualService>) -> bool {
    let owner = format!("Rollout/{}/{}", own.rollout_namespace, own.rollout_name);
    let mut any = false;
    for route in &mut view.routes {
        let Some(vs) = vss.get(&route.virtual_service) else { continue };
        let names: Vec<Option<&str>> = vs.spec.http.iter().map(|r| r.name.as_deref()).collect();
        if own.http_route_claim(&vs.metadata.namespace, &vs.metadata.name, &names, route.index).is_some() {
            route.managed_by = Some(owner.clone());
            any = true;
        }
    }
    any
}

fn rollout_view(ro: &Rollout, own: &IstioOwnership, view: &ServiceView) -> RolloutView {
    let phase = rollouts::phase(ro);
    let owned = view
        .routes
        .iter()
        .find(|r| r.managed_by.as_deref().is_some_and(|m| m.ends_with(&format!("/{}", own.rollout_name))));
    let actual = owned.map(|r| {
        r.destinations
            .iter()
            .filter(|d| own.destination_role(&d.host, d.subset.as_deref()) == DestinationRole::Canary)
            .map(|d| d.weight_percent)
            .sum::<f64>()
    });
    RolloutView {
        name: own.rollout_name.clone(),
        namespace: own.rollout_namespace.clone(),
        strategy: progress::strategy_kind(ro).map_or("unknown", |k| k.as_str()).to_string(),
        phase: phase.phase.as_str().to_string(),
        message: phase.message,
        step: progress::step_progress(ro).map(|s| s.to_string()),
        canary_subset: own.destination_rule.as_ref().map(|d| d.canary_subset.clone()),
        stable_subset: own.destination_rule.as_ref().map(|d| d.stable_subset.clone()),
        desired_canary_weight: progress::desired_weights(ro).map(|w| i64::from(w.canary)),
        actual_canary_weight: actual,
    }
}

/// The controller rewrites weights on every reconcile: a difference that lasts means it is not running, is
/// failing, or someone is fighting it.
fn drift(r: &RolloutView, view: &mut ServiceView) {
    if let (Some(desired), Some(actual)) = (r.desired_canary_weight, r.actual_canary_weight)
        && (desired as f64 - actual).abs() >= 0.5
    {
        view.findings.push(Code::RolloutWeightDrift.finding(
            format!("Rollout/{}/{}", r.namespace, r.name),
            format!("the Rollout wants {desired}% on the canary, but its VirtualService route gives {actual:.0}%"),
        ));
    }
}

/// Names the Rollout (and the role) as owner of the canary and stable subsets.
fn mark_versions(view: &mut ServiceView, own: &IstioOwnership) {
    let Some(dr) = &own.destination_rule else { return };
    for v in &mut view.versions {
        let role = match v.subset.as_deref() {
            Some(s) if s == dr.canary_subset => "canary",
            Some(s) if s == dr.stable_subset => "stable",
            _ => continue,
        };
        let owner = format!("Rollout/{} ({role})", own.rollout_name);
        v.owners.retain(|o| o != &format!("Rollout/{}", own.rollout_name));
        v.owners.insert(0, owner);
    }
}
