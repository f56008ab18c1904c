//! What an HTTPRoute edit is validated against, read from the route graph: the routed host, the HTTPRoute
//! that routes it, its versions (the backend Services) with their ready pods, and the Rollouts whose Gateway
//! API plugin owns rules of it (and those that could not be read or listed, which may).

use crate::edit::EditError;
use crate::edit::context::{Doubt, Request, Routed, Version, find_version, routed};
use crate::gateway::objects::{BackendRef, HttpRoute, Rule};
use crate::graph::{HostNode, Index, PodCount, RouteGraph, gateway::backend_key};
use crate::istio::{VersionKey, host};
use crate::objects::meta::Labels;
use crate::objects::{ObjectRef, Snapshot};
use crate::rollouts::GatewayOwnership;
use jiff::Timestamp;
use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct RuleContext {
    /// The routed host, resolved.
    pub host: String,
    /// The command's namespace: short version names resolve in it.
    pub namespace: String,
    pub domain: String,
    pub version_label: String,
    /// The HTTPRoute the edit applies to.
    pub route: ObjectRef,
    pub versions: Vec<Version>,
    /// The versions the host's routes send or mirror to (the others in `versions` could become one).
    pub routed: Vec<VersionKey>,
    /// The version-label value each version's Service selects (`reviews-v2` -> `v2`), where it has one.
    pub values: Vec<(VersionKey, String)>,
    /// Rollouts whose Gateway API plugin names this HTTPRoute, by reference.
    pub owners: Vec<(ObjectRef, GatewayOwnership)>,
    /// Rollouts that could not be read at all: any of them may own the route.
    pub doubts: Vec<Doubt>,
    /// Rollouts could not be listed (no permission), so ownership is unknown.
    pub rollouts_unknown: bool,
    pub now: Timestamp,
    pub force: bool,
}

impl RuleContext {
    pub(crate) fn from_graph(
        snap: &Snapshot,
        graph: &RouteGraph,
        node: &HostNode,
        req: &Request,
    ) -> Result<RuleContext, EditError> {
        let route = choose_route(node, req)?;
        let owners = snap
            .rollouts
            .iter()
            .filter_map(|ro| {
                let own = GatewayOwnership::of(ro)?;
                let rollout = ObjectRef::new(crate::objects::Kind::Rollout, &ro.metadata.namespace, &ro.metadata.name);
                own.routes.contains(&route).then_some((rollout, own))
            })
            .collect();
        let doubts = graph
            .unknown_owners
            .iter()
            .map(|u| Doubt { rollout: u.object.clone(), error: u.error.clone(), ownership: None })
            .collect();
        let routed = node.versions.iter().map(|v| v.key.clone()).collect();
        let idx = Index::new(snap, req.domain);
        let versions = with_candidates(crate::edit::context::versions(node), snap, &idx, &node.host);
        Ok(RuleContext {
            host: node.host.clone(),
            namespace: req.namespace.to_string(),
            domain: req.domain.to_string(),
            version_label: req.version_label.to_string(),
            route,
            values: values(&versions, &idx, req.version_label),
            routed,
            versions,
            owners,
            doubts,
            rollouts_unknown: graph.rollouts_unlisted,
            now: req.now,
            force: req.force,
        })
    }

    /// Builds the context of an HTTPRoute edit, refusing a host routed by a VirtualService.
    pub fn build(snap: &Snapshot, req: &Request) -> Result<RuleContext, EditError> {
        let graph = crate::graph::build(snap, &req.options())?;
        match routed(&graph, req)? {
            Routed::Gateway(node) => RuleContext::from_graph(snap, &graph, node, req),
            Routed::Istio(node) => Err(EditError::Malformed {
                object: node.virtual_services.iter().map(|vs| vs.reference().label()).collect::<Vec<_>>().join(", "),
                field: "kind".into(),
                reason: "routes this host, not an HTTPRoute".into(),
            }),
        }
    }

    /// `HTTPRoute bookinfo/reviews`, for messages.
    pub fn label(&self) -> String {
        self.route.label()
    }

    pub fn version(&self, input: &str) -> Result<&Version, EditError> {
        find_version(&self.versions, input, &self.host, &self.namespace, &self.domain)
    }

    /// Where a backend written in the HTTPRoute goes.
    pub fn key(&self, b: &BackendRef) -> VersionKey {
        backend_key(b, &self.route.namespace, &self.domain)
    }

    pub fn version_of(&self, b: &BackendRef) -> Option<&Version> {
        let key = self.key(b);
        self.versions.iter().find(|v| v.key == key)
    }

    /// How a backend is named in messages: its version name, or its Service.
    pub fn name_of(&self, b: &BackendRef) -> String {
        self.version_of(b).map_or_else(|| host::short(&self.key(b).host, &self.domain), |v| v.name.clone())
    }

    /// The versions `pin` routes to, with the value of the version label each stands for: those the route
    /// sends to, and the Services that could become versions and have pods.
    pub fn pin_versions(&self) -> Vec<(String, &Version)> {
        let routed = |v: &Version| v.pods.is_some_and(|p| p.total > 0) || self.routed.contains(&v.key);
        self.values
            .iter()
            .filter_map(|(key, value)| Some((value.clone(), self.versions.iter().find(|v| &v.key == key)?)))
            .filter(|(_, v)| routed(v))
            .collect()
    }

    /// The Rollout whose plugin rewrites `rule` of `route`, if any.
    pub fn owner_of(&self, route: &HttpRoute, rule: &Rule) -> Option<&ObjectRef> {
        self.owners.iter().find(|(_, own)| own.manages(route, rule)).map(|(ro, _)| ro)
    }

    /// A `backendRef` for version `v`: the Service's name (and namespace when it is not the route's), with the
    /// port of a sibling backend (a Service backend must name its port; versions of one service share it).
    pub fn backend(&self, v: &Version, siblings: &[BackendRef]) -> Result<Value, EditError> {
        let Some((name, ns)) = host::service_of(&v.key.host, &self.domain) else {
            return Err(EditError::NotRoutable {
                vs: self.label(),
                what: "the edit".into(),
                target: v.name.clone(),
                reason: "which is not a Service: an HTTPRoute backend added by vroute must be a Service".into(),
            });
        };
        let port = siblings.iter().find_map(|b| b.port);
        let mut b = json!({"name": name});
        if ns != self.route.namespace {
            b["namespace"] = json!(ns);
        }
        match port {
            Some(p) => b["port"] = json!(p),
            None => {
                return Err(EditError::NotRoutable {
                    vs: self.label(),
                    what: "the edit".into(),
                    target: v.name.clone(),
                    reason: "but no backend of the rule names a port to copy: add it with its port by hand".into(),
                });
            }
        }
        Ok(b)
    }
}

/// The host's versions, and the Services that could become one: a Service beside the host's that selects
/// only pods the host's selector selects (`reviews-v3` with `app: reviews, version: v3` under `reviews` with
/// `app: reviews`), as one Service per version is laid out. A Service with other pods is not a version of this
/// one, so a typo cannot send its traffic to an unrelated service.
fn with_candidates(mut versions: Vec<Version>, snap: &Snapshot, idx: &Index, target: &str) -> Vec<Version> {
    let domain = idx.domain();
    let Some(parent) = idx.service(target) else { return versions };
    let Some(selector) = parent.spec.selector.as_ref().filter(|s| !s.is_empty()) else { return versions };
    let ns = &parent.metadata.namespace;
    for svc in snap.services.iter().filter(|s| &s.metadata.namespace == ns && s.metadata.name != parent.metadata.name) {
        let narrower = svc.spec.selector.as_ref().is_some_and(|s| selector.iter().all(|(k, v)| s.get(k) == Some(v)));
        let host = format!("{}.{ns}.svc.{domain}", svc.metadata.name);
        if !narrower || versions.iter().any(|v| v.key.host == host) {
            continue;
        }
        let pods = idx.pods(&host, &Labels::new()).map(PodCount::of);
        versions.push(Version {
            name: host::short(&host, domain),
            key: VersionKey { host, subset: None },
            labels: Labels::new(),
            defined: true,
            pods,
        });
    }
    versions
}

/// The version-label value the Service of each host-level version selects.
fn values(versions: &[Version], idx: &Index, label: &str) -> Vec<(VersionKey, String)> {
    versions
        .iter()
        .filter(|v| v.key.subset.is_none())
        .filter_map(|v| {
            let selector = idx.service(&v.key.host)?.spec.selector.as_ref()?;
            Some((v.key.clone(), selector.get(label)?.clone()))
        })
        .collect()
}

/// The HTTPRoute `--http-route` names, else the only one attached, else the only producer route (in the
/// Service's namespace, its parent the Service itself).
fn choose_route(node: &HostNode, req: &Request) -> Result<ObjectRef, EditError> {
    let candidates: Vec<ObjectRef> = node.http_routes.iter().map(|r| r.reference()).collect();
    let keys = || candidates.iter().map(ObjectRef::key).collect::<Vec<_>>();
    let picked: Vec<&ObjectRef> = match req.http_route {
        Some(wanted) => candidates.iter().filter(|c| c.key() == wanted || c.name == wanted).collect(),
        None if candidates.len() == 1 => candidates.iter().collect(),
        None => {
            let producers = node.rules.iter().filter(|r| r.audience == crate::graph::Audience::Producers);
            let mut refs: Vec<ObjectRef> = producers.map(|r| r.route.reference()).collect();
            refs.sort_by_key(ObjectRef::key);
            refs.dedup();
            return match refs.as_slice() {
                [one] => Ok(one.clone()),
                _ => Err(EditError::AmbiguousHttpRoute { host: node.host.clone(), candidates: keys() }),
            };
        }
    };
    match (picked.as_slice(), req.http_route) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(wanted)) => {
            Err(EditError::UnknownHttpRoute { host: node.host.clone(), wanted: wanted.to_string(), candidates: keys() })
        }
        _ => Err(EditError::AmbiguousHttpRoute { host: node.host.clone(), candidates: keys() }),
    }
}
