//! What is wrong with a host's HTTPRoute rules: backends and parents that do not exist, cross-namespace
//! backends nobody granted, routes their parent did not accept, weights that route nothing, rules precedence
//! never reaches, and a host routed by both APIs.

use super::findings::{Code, Finding};
use super::index::Index;
use super::{HostNode, RuleNode};
use crate::gateway::route::Parent;
use crate::objects::ObjectRef;
use std::collections::BTreeSet;

pub fn host(idx: &Index, node: &mut HostNode) {
    let mut findings = Vec::new();
    let mut parents_seen = BTreeSet::new();
    let mut backends_seen = BTreeSet::new();
    for r in &node.rules {
        let object = r.route.reference().to_string();
        if parents_seen.insert((object.clone(), r.parent.clone())) {
            parent_findings(idx, r, &object, &mut findings);
        }
        backend_findings(idx, r, &object, &mut backends_seen, &mut findings);
        let label = format!("rule {}", r.rule.key(r.index));
        if r.destinations.len() > 1 && r.destinations.iter().all(|d| d.share == 0.0) {
            findings.push(
                Code::ZeroTotalWeight
                    .finding(&object, format!("{label}: all backend weights are 0, so its requests get HTTP 500")),
            );
        }
        if !r.reachable {
            findings.push(Code::UnreachableRoute.finding(
                &object,
                format!(
                    "{label} never applies for {}: a more specific or older rule takes each of its matches first \
                     (Gateway API precedence)",
                    r.audience
                ),
            ));
        }
    }
    let mesh_routes = node.rules.iter().any(|r| matches!(r.parent, Parent::Service { .. }));
    if mesh_routes && node.virtual_services.iter().any(|vs| vs.mesh_bound()) {
        let routes: BTreeSet<String> = node.http_routes.iter().map(|r| r.reference().key()).collect();
        let vss: Vec<String> = node.virtual_services.iter().map(|vs| vs.reference().key()).collect();
        findings.push(Code::MixedRouteApis.finding(
            format!("Host/{}", node.host),
            format!(
                "host {} is routed by VirtualService {} and HTTPRoute {}: which one applies is undefined in ambient \
                 mode and depends on the proxy",
                node.host,
                vss.join(", "),
                routes.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    node.findings.extend(findings);
}

fn parent_findings(idx: &Index, r: &RuleNode, object: &str, findings: &mut Vec<Finding>) {
    let missing = match &r.parent {
        Parent::Service { service, .. } => !idx.has_service(&service.namespace, &service.name),
        Parent::Gateway { gateway, .. } => !idx.has_gateway(gateway),
        Parent::Other { .. } => false,
    };
    if missing {
        findings.push(Code::ParentMissing.finding(
            object,
            format!(
                "{} names parent {}, which does not exist: the route applies nowhere",
                r.route.reference().label(),
                r.parent
            ),
        ));
    }
    if let Some(c) = r.conditions.iter().find(|c| c.kind == "Accepted" && c.status == "False") {
        findings.push(Code::RouteNotAccepted.finding(
            object,
            format!(
                "{} is not Accepted by parent {} ({}: {}): it routes nothing there",
                r.route.reference().label(),
                r.parent,
                c.reason,
                c.message
            ),
        ));
    }
}

fn backend_findings(
    idx: &Index,
    r: &RuleNode,
    object: &str,
    seen: &mut BTreeSet<ObjectRef>,
    findings: &mut Vec<Finding>,
) {
    let ns = &r.route.metadata.namespace;
    let label = format!("rule {}", r.rule.key(r.index));
    let backends = r.rule.backend_refs.iter().zip(&r.destinations).map(|(b, d)| (b, d.share));
    let mirrors = r.rule.mirrors().into_iter().map(|(b, _)| (b, 0.0));
    for (b, share) in backends.chain(mirrors) {
        let Some(service) = b.service(ns) else { continue };
        if !seen.insert(service.clone()) {
            continue;
        }
        let what = if share > 0.0 { format!("sends {share:.0}% to") } else { "names".to_string() };
        if &service.namespace != ns && !idx.granted(ns, &service) {
            findings.push(Code::BackendNotGranted.finding(
                object,
                format!(
                    "{label} {what} {service}, in another namespace, and no ReferenceGrant there allows HTTPRoutes of \
                     {ns} to: that share gets HTTP 500"
                ),
            ));
        } else if !idx.has_service(&service.namespace, &service.name) {
            findings.push(
                Code::BackendMissing.finding(
                    object,
                    format!("{label} {what} {service}, which does not exist: that share gets HTTP 500"),
                ),
            );
        }
    }
}
