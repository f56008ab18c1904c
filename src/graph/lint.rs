//! What is wrong with a host's routes and versions, judged on its node: destinations that do not exist,
//! weights that do not do what they seem to, routes that never apply, versions that cannot serve.

use super::findings::Code;
use super::index::Index;
use super::{HostNode, RouteNode};
use crate::istio::host;
use std::collections::{BTreeMap, BTreeSet};

pub fn host(idx: &Index, node: &mut HostNode) {
    let domain = idx.domain();
    let target = node.host.clone();
    let mut findings = Vec::new();
    let mut unknown_hosts = BTreeSet::new();
    for (n, vs) in node.virtual_services.iter().enumerate() {
        if n > 0 && vs.mesh_bound() && node.virtual_services[..n].iter().any(|older| older.mesh_bound()) {
            findings.push(Code::DuplicateVirtualService.finding(
                vs.reference().to_string(),
                format!(
                    "{} also claims host {target}; sidecars apply only {}",
                    vs.reference(),
                    node.virtual_services[0].reference()
                ),
            ));
        }
        for route in node.routes.iter().filter(|r| std::ptr::eq(r.vs, *vs)) {
            route_findings(idx, route, &mut unknown_hosts, &mut findings);
        }
    }
    for v in &node.versions {
        let Some(pods) = v.pods.filter(|p| p.ready == 0) else { continue };
        let vs_dests = node.routes.iter().filter(|r| r.reachable).flat_map(|r| &r.destinations);
        let rule_dests = node.rules.iter().filter(|r| r.reachable).flat_map(|r| &r.destinations);
        let routed = vs_dests.chain(rule_dests).any(|d| d.version == v.name && d.share > 0.0);
        let code = if routed { Code::NoReadyPods } else { Code::IdleSubsetNoReadyPods };
        let what = if routed { "receives traffic but selects" } else { "selects" };
        findings.push(code.finding(
            host::object(&v.key.host, domain),
            format!(
                "version {} of {} {what} no ready pods ({}/{})",
                v.name,
                host::short(&v.key.host, domain),
                pods.ready,
                pods.total
            ),
        ));
    }
    duplicate_subsets(idx, &target, &mut findings);
    node.findings.extend(findings);
}

fn route_findings(
    idx: &Index,
    r: &RouteNode,
    unknown_hosts: &mut BTreeSet<String>,
    findings: &mut Vec<super::Finding>,
) {
    let domain = idx.domain();
    let label = r.route.key(r.index);
    let object = r.vs.reference().to_string();
    let mut seen = BTreeSet::new();
    for d in &r.destinations {
        let h = &d.key.host;
        if let Some(s) = &d.key.subset
            && idx.subset(h, s).is_none()
        {
            findings.push(Code::UnknownSubset.finding(
                &object,
                format!(
                    "route {label} sends {:.0}% to subset {s} of {}, which no DestinationRule defines",
                    d.share,
                    host::short(h, domain)
                ),
            ));
        }
        if host::service_of(h, domain).is_some() && idx.service(h).is_none() && unknown_hosts.insert(h.clone()) {
            findings.push(
                Code::UnknownHost.finding(&object, format!("route {label} sends traffic to {h}, which has no Service")),
            );
        }
        if !seen.insert(&d.key) {
            findings
                .push(Code::DuplicateDestination.finding(&object, format!("route {label} lists {} twice", d.version)));
        }
    }
    if let [only] = r.route.route.as_slice()
        && let Some(w) = only.weight.filter(|w| *w > 0 && *w < 100)
    {
        findings.push(Code::PartialSingleWeight.finding(
            &object,
            format!("route {label} has a single destination with weight {w}: it still receives 100%"),
        ));
    }
    if r.destinations.len() > 1 && r.destinations.iter().all(|d| d.share == 0.0) {
        findings.push(Code::ZeroTotalWeight.finding(&object, format!("route {label}: all destination weights are 0")));
    }
    if !r.reachable {
        findings.push(Code::UnreachableRoute.finding(
            &object,
            format!("route {label} comes after a route that matches every request: it never applies"),
        ));
    }
}

fn duplicate_subsets(idx: &Index, target: &str, findings: &mut Vec<super::Finding>) {
    let mut defined: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for dr in idx.drs_for(target) {
        for s in &dr.spec.subsets {
            defined.entry(&s.name).or_default().push(dr.reference().key());
        }
    }
    for (subset, rules) in defined.into_iter().filter(|(_, r)| r.len() > 1) {
        findings.push(Code::DuplicateSubset.finding(
            format!("DestinationRule/{}", rules[1]),
            format!(
                "subset {subset} of {} is defined by several DestinationRules: {}",
                host::short(target, idx.domain()),
                rules.join(", ")
            ),
        ));
    }
}

/// VR114: a canary version (a Rollout's canary subset, or the smaller side of a split route) whose pods
/// outlier detection ejects: the errors of ejected pods never reach the destination's own metrics, so a judge
/// reading only those sees a healthier canary than callers do.
pub fn outlier_detection_on_canaries(node: &mut HostNode, idx: &Index) {
    let rollout_canary = node.rollout.as_ref().and_then(|r| r.canary_subset.clone());
    let mut findings = Vec::new();
    for v in node.versions.iter().filter(|v| v.outlier_detection) {
        let split = node.routes.iter().filter(|r| r.reachable).find_map(|r| {
            r.destinations.iter().find(|d| d.key == v.key && d.share > 0.0 && d.share < 50.0).map(|d| (r, d))
        });
        let why = match (&rollout_canary, split) {
            (Some(c), _) if v.key.subset.as_ref() == Some(c) => "the Rollout's canary".to_string(),
            (_, Some((r, d))) => format!("a canary ({:.0}% of route {})", d.share, r.route.key(r.index)),
            _ => continue,
        };
        let object = match v.key.subset.as_deref().and_then(|s| idx.subset(&v.key.host, s)) {
            Some((dr, _)) => dr.reference().to_string(),
            None => host::object(&v.key.host, idx.domain()),
        };
        findings.push(Code::OutlierDetectionOnCanary.finding(
            object,
            format!(
                "version {} of {} has outlier detection while it is {why}: the errors of ejected pods do not show \
                 in its own metrics",
                v.name,
                host::short(&v.key.host, idx.domain())
            ),
        ));
    }
    node.findings.extend(findings);
}
